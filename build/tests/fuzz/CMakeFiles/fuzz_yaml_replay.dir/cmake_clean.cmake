file(REMOVE_RECURSE
  "CMakeFiles/fuzz_yaml_replay.dir/fuzz_yaml.c.o"
  "CMakeFiles/fuzz_yaml_replay.dir/fuzz_yaml.c.o.d"
  "CMakeFiles/fuzz_yaml_replay.dir/replay.c.o"
  "CMakeFiles/fuzz_yaml_replay.dir/replay.c.o.d"
  "fuzz_yaml_replay"
  "fuzz_yaml_replay.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fuzz_yaml_replay.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
