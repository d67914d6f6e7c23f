file(REMOVE_RECURSE
  "CMakeFiles/vlschemas.dir/schema.c.o"
  "CMakeFiles/vlschemas.dir/schema.c.o.d"
  "CMakeFiles/vlschemas.dir/types.c.o"
  "CMakeFiles/vlschemas.dir/types.c.o.d"
  "libvlschemas.a"
  "libvlschemas.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/vlschemas.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
