
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/agent/cli.c" "agent/CMakeFiles/vlagent.dir/cli.c.o" "gcc" "agent/CMakeFiles/vlagent.dir/cli.c.o.d"
  "/work/main/agent/cmd_fetch.c" "agent/CMakeFiles/vlagent.dir/cmd_fetch.c.o" "gcc" "agent/CMakeFiles/vlagent.dir/cmd_fetch.c.o.d"
  "/work/main/agent/cmd_init.c" "agent/CMakeFiles/vlagent.dir/cmd_init.c.o" "gcc" "agent/CMakeFiles/vlagent.dir/cmd_init.c.o.d"
  "/work/main/agent/cmd_log.c" "agent/CMakeFiles/vlagent.dir/cmd_log.c.o" "gcc" "agent/CMakeFiles/vlagent.dir/cmd_log.c.o.d"
  "/work/main/agent/cmd_record.c" "agent/CMakeFiles/vlagent.dir/cmd_record.c.o" "gcc" "agent/CMakeFiles/vlagent.dir/cmd_record.c.o.d"
  "/work/main/agent/cmd_schema.c" "agent/CMakeFiles/vlagent.dir/cmd_schema.c.o" "gcc" "agent/CMakeFiles/vlagent.dir/cmd_schema.c.o.d"
  "/work/main/agent/cmd_verify.c" "agent/CMakeFiles/vlagent.dir/cmd_verify.c.o" "gcc" "agent/CMakeFiles/vlagent.dir/cmd_verify.c.o.d"
  "/work/main/agent/ledger.c" "agent/CMakeFiles/vlagent.dir/ledger.c.o" "gcc" "agent/CMakeFiles/vlagent.dir/ledger.c.o.d"
  "/work/main/agent/node.c" "agent/CMakeFiles/vlagent.dir/node.c.o" "gcc" "agent/CMakeFiles/vlagent.dir/node.c.o.d"
  "/work/main/agent/verify.c" "agent/CMakeFiles/vlagent.dir/verify.c.o" "gcc" "agent/CMakeFiles/vlagent.dir/verify.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/schemas/CMakeFiles/vlschemas.dir/DependInfo.cmake"
  "/work/main/build/store/CMakeFiles/vlstore.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
