// Checking what an action throws in tests: the message of the expected error type.
#pragma once

#include <string>

#include <gtest/gtest.h>

namespace mmtrain::test {

// Runs `action`, which must throw `Error`, and returns its message (a test failure otherwise).
template <typename Error, typename Action>
std::string error_message(Action action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "the expected error was not thrown";
  return "";
}

}  // namespace mmtrain::test
