# Helpers shared by every directory's CMakeLists.txt.

# One precompiled header of GoogleTest, GoogleMock and the standard headers tests use, built
# once per build tree and force-included (REUSE_FROM) into every cairn_test source: parsing
# gtest.h + gmock.h alone was ~2.3 s of CPU in each test file (2.6 s for a small one), in both
# the release and the ASan build of `make test`.
# GCC takes a precompiled header only if every -D it was built with is defined alike in the
# user (extra ones are fine) and the code-generation flags match; CMake adds -Winvalid-pch, so
# under -Werror a mismatch fails the build instead of silently going slow. Hence the PCH
# target carries nothing but what every test has: the directory-wide flags, the -O0 of test
# bodies, and GoogleTest's own usage requirements. A test that needs other flags than these
# must not be a cairn_test (or must drop the PCH with DISABLE_PRECOMPILE_HEADERS).
function(cairn_add_test_pch)
  if(TARGET cairn_test_pch)
    return()
  endif()
  set(source ${CMAKE_BINARY_DIR}/generated/cairn_test_pch.cc)
  file(CONFIGURE OUTPUT ${source} CONTENT "// Carrier of the test PCH (cmake/cairn.cmake).\n")
  add_library(cairn_test_pch STATIC ${source})
  target_link_libraries(cairn_test_pch PRIVATE GTest::gtest GTest::gmock)
  target_compile_options(cairn_test_pch PRIVATE -O0)
  target_precompile_headers(cairn_test_pch PRIVATE
    <gtest/gtest.h> <gmock/gmock.h>
    <algorithm> <atomic> <chrono> <cstring> <filesystem> <fstream> <functional> <map>
    <memory> <optional> <set> <sstream> <string> <string_view> <thread> <variant> <vector>)
endfunction()

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
  cairn_add_test_pch()
  target_precompile_headers(${name} REUSE_FROM cairn_test_pch)
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
