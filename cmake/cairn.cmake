# Helpers shared by every directory's CMakeLists.txt.

# cairn_test(NAME SOURCES... LIBS ... [LABELS ...]): a GoogleTest binary registered with CTest.
# Unit tests carry the label "unit"; integration tests of real binaries add "integration".
function(cairn_test name)
  if(NOT CAIRN_BUILD_TESTS OR CAIRN_FUZZ)
    return()
  endif()
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES} ${T_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  # Test bodies are built unoptimised whatever the build type: GoogleTest-heavy files compile
  # about 3x faster at -O0 and `make test` is bounded by compile time on 2 cores. The code
  # under test lives in libraries and keeps the build type's flags.
  target_compile_options(${name} PRIVATE -O0)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  # gtest_discover_tests cannot carry a label list (CMake splits it into property names), so
  # a test gets one label: the most restrictive it was given, which is what the filters in
  # scripts/run-tests.sh (-LE 'qemu|slow') select on.
  set(label unit)
  foreach(candidate integration slow qemu)
    if(candidate IN_LIST T_LABELS)
      set(label ${candidate})
    endif()
  endforeach()
  gtest_discover_tests(${name} PROPERTIES LABELS ${label} DISCOVERY_TIMEOUT 60)
endfunction()

# cairn_fuzz(NAME SOURCES... LIBS ...): a libFuzzer target, built only with -DCAIRN_FUZZ=ON
# (clang). `make test` runs each one briefly over its seed corpus in <dir>/corpus/<NAME>.
function(cairn_fuzz name)
  if(NOT CAIRN_FUZZ)
    return()
  endif()
  cmake_parse_arguments(F "" "CORPUS" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${F_SOURCES} ${F_UNPARSED_ARGUMENTS})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  set_property(GLOBAL APPEND PROPERTY CAIRN_FUZZ_TARGETS ${name})
endfunction()

# Libraries that fuzz targets link must be built with coverage instrumentation too.
if(CAIRN_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
