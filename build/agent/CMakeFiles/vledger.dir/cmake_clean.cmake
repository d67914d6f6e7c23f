file(REMOVE_RECURSE
  "CMakeFiles/vledger.dir/main.c.o"
  "CMakeFiles/vledger.dir/main.c.o.d"
  "vledger"
  "vledger.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/vledger.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
