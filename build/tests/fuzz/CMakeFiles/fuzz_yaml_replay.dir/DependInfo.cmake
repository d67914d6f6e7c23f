
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/tests/fuzz/fuzz_yaml.c" "tests/fuzz/CMakeFiles/fuzz_yaml_replay.dir/fuzz_yaml.c.o" "gcc" "tests/fuzz/CMakeFiles/fuzz_yaml_replay.dir/fuzz_yaml.c.o.d"
  "/work/main/tests/fuzz/replay.c" "tests/fuzz/CMakeFiles/fuzz_yaml_replay.dir/replay.c.o" "gcc" "tests/fuzz/CMakeFiles/fuzz_yaml_replay.dir/replay.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/agent/CMakeFiles/vlagent.dir/DependInfo.cmake"
  "/work/main/build/schemas/CMakeFiles/vlschemas.dir/DependInfo.cmake"
  "/work/main/build/store/CMakeFiles/vlstore.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
