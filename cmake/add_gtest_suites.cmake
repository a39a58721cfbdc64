# Registers one ctest test per GoogleTest suite (not per case): each LibTorch process costs about
# a second to start, so a suite shares one. The list is read from the binary when ctest runs.
function(mmtrain_add_gtest_suites target)
  set(script "${CMAKE_CURRENT_BINARY_DIR}/${target}_suites.cmake")
  file(WRITE "${script}.in" "
execute_process(COMMAND \"$<TARGET_FILE:${target}>\" --gtest_list_tests
                OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  add_test(${target}_NOT_BUILT \"$<TARGET_FILE:${target}>\" --gtest_list_tests)
  return()
endif()
string(REPLACE \"\\n\" \";\" lines \"\${listing}\")
foreach(line IN LISTS lines)
  if(line MATCHES \"^([A-Za-z0-9_/]+)\\\\.\")
    set(suite \"\${CMAKE_MATCH_1}\")
    add_test(\"\${suite}\" \"$<TARGET_FILE:${target}>\" \"--gtest_filter=\${suite}.*\" --gtest_color=no)
    set_tests_properties(\"\${suite}\" PROPERTIES TIMEOUT 600)
    # CUDA suites skip whole without a GPU: ctest then reports them skipped, not passed.
    if(suite MATCHES \"Cuda\")
      set_tests_properties(\"\${suite}\" PROPERTIES SKIP_REGULAR_EXPRESSION \"\\\\[  SKIPPED \\\\]\")
    endif()
  endif()
endforeach()
")
  file(GENERATE OUTPUT "${script}" INPUT "${script}.in")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${script}")
endfunction()
