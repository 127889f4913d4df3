// For libFuzzer harnesses of readers that take a path: the input bytes as a file, one per
// process, rewritten for every input (tools/fuzz.sh builds and runs the harnesses).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace ald::testing {

// `suffix` matters to readers that look at the name (".gz" is read either way).
inline std::string FuzzInputFile(const uint8_t* data, size_t size, const std::string& suffix) {
  const char* dir = std::getenv("TMPDIR");
  const std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/fuzz-input-" +
                           std::to_string(::getpid()) + suffix;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

}  // namespace ald::testing
