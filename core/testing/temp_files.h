// Small file helpers for tests that write into GoogleTest's temporary directory.
#pragma once

#include <string>

namespace ald::testing {

// A fresh-enough directory `TempDir()/<prefix><name>` (created if missing).
std::string TestDir(const std::string& prefix, const std::string& name);
// The whole file as bytes ("" if it cannot be read).
std::string FileContents(const std::string& path);
bool FileExists(const std::string& path);

}  // namespace ald::testing
