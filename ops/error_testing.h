// Test helper for the house rule that bad calls return errors naming the op and the shapes:
// checks that a status failed and that its message contains the expected text.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace ald::testing {

inline ::testing::AssertionResult FailsWith(const absl::Status& status, const std::string& text) {
  if (status.ok()) return ::testing::AssertionFailure() << "succeeded, expected: " << text;
  if (status.message().find(text) == std::string::npos) {
    return ::testing::AssertionFailure() << status << "\nexpected to contain: " << text;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace ald::testing
