file(REMOVE_RECURSE
  "CMakeFiles/fuzz_sshsig_replay.dir/fuzz_sshsig.c.o"
  "CMakeFiles/fuzz_sshsig_replay.dir/fuzz_sshsig.c.o.d"
  "CMakeFiles/fuzz_sshsig_replay.dir/replay.c.o"
  "CMakeFiles/fuzz_sshsig_replay.dir/replay.c.o.d"
  "fuzz_sshsig_replay"
  "fuzz_sshsig_replay.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fuzz_sshsig_replay.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
