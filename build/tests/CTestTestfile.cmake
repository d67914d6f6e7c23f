# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(test_sshsig "/work/main/build/tests/test_sshsig")
set_tests_properties(test_sshsig PROPERTIES  ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;14;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_types "/work/main/build/tests/test_types")
set_tests_properties(test_types PROPERTIES  ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;14;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(test_yaml "/work/main/build/tests/test_yaml")
set_tests_properties(test_yaml PROPERTIES  ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;14;add_test;/work/main/tests/CMakeLists.txt;0;")
subdirs("fuzz")
