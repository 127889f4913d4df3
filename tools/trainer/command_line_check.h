// Checks a command line against the defined flags before absl::ParseCommandLine sees it:
// absl reports an unknown flag or an unparsable value by exiting with status 1, where the
// training program promises 2 (bad input) and a message naming the flag and what it expects.
#pragma once

#include "absl/status/status.h"

namespace ald {

// InvalidArgument naming the first unknown flag, flag without its value, or value its flag
// cannot parse. Positional arguments and everything after "--" are left to the program;
// --flagfile, --fromenv, --tryfromenv and --undefok change what is defined, so a command line
// with them is left to absl.
absl::Status CheckCommandLine(int argc, const char* const* argv);

}  // namespace ald
