
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/schemas/schema.c" "schemas/CMakeFiles/vlschemas.dir/schema.c.o" "gcc" "schemas/CMakeFiles/vlschemas.dir/schema.c.o.d"
  "/work/main/schemas/types.c" "schemas/CMakeFiles/vlschemas.dir/types.c.o" "gcc" "schemas/CMakeFiles/vlschemas.dir/types.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/store/CMakeFiles/vlstore.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
