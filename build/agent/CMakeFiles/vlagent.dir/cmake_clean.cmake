file(REMOVE_RECURSE
  "CMakeFiles/vlagent.dir/cli.c.o"
  "CMakeFiles/vlagent.dir/cli.c.o.d"
  "CMakeFiles/vlagent.dir/cmd_fetch.c.o"
  "CMakeFiles/vlagent.dir/cmd_fetch.c.o.d"
  "CMakeFiles/vlagent.dir/cmd_init.c.o"
  "CMakeFiles/vlagent.dir/cmd_init.c.o.d"
  "CMakeFiles/vlagent.dir/cmd_log.c.o"
  "CMakeFiles/vlagent.dir/cmd_log.c.o.d"
  "CMakeFiles/vlagent.dir/cmd_record.c.o"
  "CMakeFiles/vlagent.dir/cmd_record.c.o.d"
  "CMakeFiles/vlagent.dir/cmd_schema.c.o"
  "CMakeFiles/vlagent.dir/cmd_schema.c.o.d"
  "CMakeFiles/vlagent.dir/cmd_verify.c.o"
  "CMakeFiles/vlagent.dir/cmd_verify.c.o.d"
  "CMakeFiles/vlagent.dir/ledger.c.o"
  "CMakeFiles/vlagent.dir/ledger.c.o.d"
  "CMakeFiles/vlagent.dir/node.c.o"
  "CMakeFiles/vlagent.dir/node.c.o.d"
  "CMakeFiles/vlagent.dir/verify.c.o"
  "CMakeFiles/vlagent.dir/verify.c.o.d"
  "libvlagent.a"
  "libvlagent.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/vlagent.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
