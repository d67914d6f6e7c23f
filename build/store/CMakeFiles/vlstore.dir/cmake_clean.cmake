file(REMOVE_RECURSE
  "CMakeFiles/vlstore.dir/buf.c.o"
  "CMakeFiles/vlstore.dir/buf.c.o.d"
  "CMakeFiles/vlstore.dir/error.c.o"
  "CMakeFiles/vlstore.dir/error.c.o.d"
  "CMakeFiles/vlstore.dir/hlc.c.o"
  "CMakeFiles/vlstore.dir/hlc.c.o.d"
  "CMakeFiles/vlstore.dir/record.c.o"
  "CMakeFiles/vlstore.dir/record.c.o.d"
  "CMakeFiles/vlstore.dir/repo.c.o"
  "CMakeFiles/vlstore.dir/repo.c.o.d"
  "CMakeFiles/vlstore.dir/sshsig.c.o"
  "CMakeFiles/vlstore.dir/sshsig.c.o.d"
  "CMakeFiles/vlstore.dir/ulid.c.o"
  "CMakeFiles/vlstore.dir/ulid.c.o.d"
  "CMakeFiles/vlstore.dir/value.c.o"
  "CMakeFiles/vlstore.dir/value.c.o.d"
  "CMakeFiles/vlstore.dir/yaml.c.o"
  "CMakeFiles/vlstore.dir/yaml.c.o.d"
  "libvlstore.a"
  "libvlstore.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/vlstore.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
