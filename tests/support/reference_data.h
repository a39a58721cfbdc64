// Reference data made at test time by scripts/reference_data.sh (open_clip's outputs, from pinned
// PyPI packages; see tests/reference/make_openclip_golden.py) into the folder MMTRAIN_REFERENCE_DATA
// names, <build dir>/reference. Tests that need it skip with a visible reason where it is absent,
// and fail instead when CI=true.
#pragma once

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "test_paths.h"

namespace mmtrain::test {

inline std::string reference_data(const std::string& relative) {
  return std::string(MMTRAIN_REFERENCE_DATA) + "/" + relative;
}

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::strcmp(ci, "true") == 0;
}

}  // namespace mmtrain::test

#define MMTRAIN_REQUIRE_REFERENCE_DATA(relative)                                                  \
  do {                                                                                           \
    if (!std::filesystem::exists(::mmtrain::test::reference_data(relative))) {                   \
      if (::mmtrain::test::running_in_ci()) {                                                    \
        FAIL() << "CI=true but reference data " << ::mmtrain::test::reference_data(relative)     \
               << " is missing";                                                                 \
      }                                                                                          \
      GTEST_SKIP() << "reference data " << ::mmtrain::test::reference_data(relative)             \
                   << " is absent (scripts/reference_data.sh "                                   \
                   << MMTRAIN_REFERENCE_DATA << " makes it; scripts/test.sh runs that)";        \
    }                                                                                            \
  } while (0)
