# CMake generated Testfile for 
# Source directory: /work/main/tests/fuzz
# Build directory: /work/main/build/tests/fuzz
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(fuzz_sshsig_corpus "/work/main/build/tests/fuzz/fuzz_sshsig_replay" "/work/main/tests/fuzz/corpus/sshsig")
set_tests_properties(fuzz_sshsig_corpus PROPERTIES  _BACKTRACE_TRIPLES "/work/main/tests/fuzz/CMakeLists.txt;12;add_test;/work/main/tests/fuzz/CMakeLists.txt;0;")
add_test(fuzz_yaml_corpus "/work/main/build/tests/fuzz/fuzz_yaml_replay" "/work/main/tests/fuzz/corpus/yaml")
set_tests_properties(fuzz_yaml_corpus PROPERTIES  _BACKTRACE_TRIPLES "/work/main/tests/fuzz/CMakeLists.txt;12;add_test;/work/main/tests/fuzz/CMakeLists.txt;0;")
