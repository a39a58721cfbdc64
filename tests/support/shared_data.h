// Reference data made outside the project (../shared/data, found at configure time). Tests that
// need it skip with a visible reason where it is absent, and fail instead when CI=true.
#pragma once

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "test_paths.h"

namespace mmtrain::test {

inline std::string shared_data(const std::string& relative) {
  return std::string(MMTRAIN_SHARED_DATA) + "/" + relative;
}

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::strcmp(ci, "true") == 0;
}

}  // namespace mmtrain::test

#define MMTRAIN_REQUIRE_SHARED_DATA(relative)                                                    \
  do {                                                                                           \
    if (!std::filesystem::exists(::mmtrain::test::shared_data(relative))) {                      \
      if (::mmtrain::test::running_in_ci()) {                                                    \
        FAIL() << "CI=true but reference data " << ::mmtrain::test::shared_data(relative)        \
               << " is missing";                                                                 \
      }                                                                                          \
      GTEST_SKIP() << "reference data " << ::mmtrain::test::shared_data(relative)                \
                   << " is absent (set -DMMTRAIN_SHARED_DATA=...)";                              \
    }                                                                                            \
  } while (0)
