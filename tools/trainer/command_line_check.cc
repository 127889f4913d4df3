#include "tools/trainer/command_line_check.h"

#include <cstdint>
#include <string>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ald {
namespace {

// What a value of the flag's type looks like, for the message.
std::string ExpectedValue(const absl::CommandLineFlag& flag) {
  if (flag.IsOfType<bool>()) return "true or false";
  if (flag.IsOfType<double>() || flag.IsOfType<float>()) return "a number";
  if (flag.IsOfType<uint64_t>() || flag.IsOfType<uint32_t>()) return "a non-negative integer";
  if (flag.IsOfType<int64_t>() || flag.IsOfType<int32_t>()) return "an integer";
  return "a value";
}

bool ChangesTheDefinedFlags(absl::string_view name) {
  return name == "flagfile" || name == "fromenv" || name == "tryfromenv" || name == "undefok";
}

}  // namespace

absl::Status CheckCommandLine(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;  // positional
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const size_t equals = arg.find('=');
    const absl::string_view name = arg.substr(0, equals);
    const bool has_value = equals != absl::string_view::npos;
    if (ChangesTheDefinedFlags(name)) return absl::OkStatus();
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && !has_value && absl::StartsWith(name, "no")) {
      // --noquiet: a boolean flag set to false.
      absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>()) continue;
    }
    if (flag == nullptr || flag->IsRetired()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": unknown flag (--help lists the flags)"));
    }
    if (!has_value && flag->IsOfType<bool>()) continue;
    std::string value;
    if (has_value) {
      value = std::string(arg.substr(equals + 1));
    } else if (i + 1 < argc) {
      value = argv[++i];  // "--flag value"
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": missing value, expected ", ExpectedValue(*flag)));
    }
    // absl parses the command line again afterwards; parsing here only tests the value.
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, "=", value, ": expected ", ExpectedValue(*flag)));
    }
  }
  return absl::OkStatus();
}

}  // namespace ald
