// Unknown flags and unparsable values are reported as InvalidArgument naming the flag (absl
// itself would exit with status 1).
#include "tools/trainer/command_line_check.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(double, check_rate, 0.1, "a number");
ABSL_FLAG(int64_t, check_count, 1, "an integer");
ABSL_FLAG(bool, check_switch, false, "a boolean");
ABSL_FLAG(std::string, check_name, "", "a string");

namespace ald {
namespace {

using ::testing::HasSubstr;

absl::Status Check(std::vector<const char*> args) {
  args.insert(args.begin(), "train");
  return CheckCommandLine(static_cast<int>(args.size()), args.data());
}

TEST(CommandLineCheckTest, AcceptsWhatAbslAccepts) {
  EXPECT_TRUE(Check({}).ok());
  EXPECT_TRUE(Check({"--check_rate=0.5", "-check_count", "3", "--check_switch",
                     "--nocheck_switch", "--check_switch=false", "--check_name=", "positional",
                     "--", "--not_a_flag"})
                  .ok());
}

TEST(CommandLineCheckTest, UnknownFlagIsNamed) {
  const absl::Status status = Check({"--check_rate=1", "--lrr=0.1"});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--lrr: unknown flag"));
  EXPECT_FALSE(Check({"--nocheck_rate"}).ok());  // "no" negates booleans only
}

TEST(CommandLineCheckTest, UnparsableValueNamesFlagValueAndType) {
  EXPECT_EQ(Check({"--check_rate=abc"}).message(), "--check_rate=abc: expected a number");
  EXPECT_EQ(Check({"--check_count", "1.5"}).message(), "--check_count=1.5: expected an integer");
  EXPECT_EQ(Check({"--check_switch=maybe"}).message(),
            "--check_switch=maybe: expected true or false");
  EXPECT_EQ(Check({"--check_count"}).message(),
            "--check_count: missing value, expected an integer");
}

}  // namespace
}  // namespace ald
