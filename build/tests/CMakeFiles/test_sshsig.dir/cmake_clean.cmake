file(REMOVE_RECURSE
  "CMakeFiles/test_sshsig.dir/test_sshsig.c.o"
  "CMakeFiles/test_sshsig.dir/test_sshsig.c.o.d"
  "CMakeFiles/test_sshsig.dir/testutil.c.o"
  "CMakeFiles/test_sshsig.dir/testutil.c.o.d"
  "test_sshsig"
  "test_sshsig.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_sshsig.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
