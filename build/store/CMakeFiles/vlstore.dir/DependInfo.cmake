
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/store/buf.c" "store/CMakeFiles/vlstore.dir/buf.c.o" "gcc" "store/CMakeFiles/vlstore.dir/buf.c.o.d"
  "/work/main/store/error.c" "store/CMakeFiles/vlstore.dir/error.c.o" "gcc" "store/CMakeFiles/vlstore.dir/error.c.o.d"
  "/work/main/store/hlc.c" "store/CMakeFiles/vlstore.dir/hlc.c.o" "gcc" "store/CMakeFiles/vlstore.dir/hlc.c.o.d"
  "/work/main/store/record.c" "store/CMakeFiles/vlstore.dir/record.c.o" "gcc" "store/CMakeFiles/vlstore.dir/record.c.o.d"
  "/work/main/store/repo.c" "store/CMakeFiles/vlstore.dir/repo.c.o" "gcc" "store/CMakeFiles/vlstore.dir/repo.c.o.d"
  "/work/main/store/sshsig.c" "store/CMakeFiles/vlstore.dir/sshsig.c.o" "gcc" "store/CMakeFiles/vlstore.dir/sshsig.c.o.d"
  "/work/main/store/ulid.c" "store/CMakeFiles/vlstore.dir/ulid.c.o" "gcc" "store/CMakeFiles/vlstore.dir/ulid.c.o.d"
  "/work/main/store/value.c" "store/CMakeFiles/vlstore.dir/value.c.o" "gcc" "store/CMakeFiles/vlstore.dir/value.c.o.d"
  "/work/main/store/yaml.c" "store/CMakeFiles/vlstore.dir/yaml.c.o" "gcc" "store/CMakeFiles/vlstore.dir/yaml.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
