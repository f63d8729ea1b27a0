# One helper per kind of target keeps the module CMakeLists short.

# sluice_add_library(NAME SOURCES ... DEPENDS ...): library sluice_NAME from src/NAME.
function(sluice_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS" ${ARGN})
  add_library(sluice_${name} STATIC ${ARG_SOURCES})
  target_include_directories(sluice_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(sluice_${name} PUBLIC ${ARG_DEPENDS} PRIVATE sluice_warnings)
  target_compile_definitions(sluice_${name} PUBLIC SLUICE_BATCH_CAPACITY=${SLUICE_BATCH_CAPACITY})
endfunction()

# sluice_add_test(NAME SOURCES ... DEPENDS ...): one GoogleTest binary per module.
function(sluice_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE ${ARG_DEPENDS} GTest::gtest GTest::gmock GTest::gtest_main
                        sluice_warnings)
  target_compile_definitions(${name} PRIVATE SLUICE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} DISCOVERY_TIMEOUT 60)
endfunction()

# sluice_add_fuzzer(NAME SOURCE DEPENDS ...): a libFuzzer target under SLUICE_FUZZ, otherwise a
# corpus replayer registered as a CTest test over fuzz/corpus/NAME.
function(sluice_add_fuzzer name)
  cmake_parse_arguments(ARG "" "SOURCE" "DEPENDS" ${ARGN})
  add_executable(fuzz_${name} ${ARG_SOURCE})
  target_include_directories(fuzz_${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(fuzz_${name} PRIVATE ${ARG_DEPENDS} sluice_warnings)
  if(SLUICE_FUZZ)
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    target_sources(fuzz_${name} PRIVATE ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cc)
    if(SLUICE_BUILD_TESTS)
      add_test(NAME fuzz_corpus_${name}
               COMMAND fuzz_${name} ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
    endif()
  endif()
endfunction()
