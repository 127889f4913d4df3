// Test helpers: small dataset files in the real on-disk formats, gzip'd (through zlib, as the
// real downloads are) or plain, under the test's temporary directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ald::testing {

// A fresh path under ::testing::TempDir(), unique to the running test.
std::string TestPath(const std::string& name);

// An IDX file: big-endian magic and dimensions, then `data`.
std::vector<uint8_t> IdxFileBytes(uint32_t magic, const std::vector<uint32_t>& dims,
                                  const std::vector<uint8_t>& data);

// CIFAR-10 records: label byte, then 3072 pixel bytes, the pixels of record i all equal to i.
std::vector<uint8_t> Cifar10FileBytes(const std::vector<uint8_t>& labels);

absl::Status WriteTestFile(const std::string& path, const std::vector<uint8_t>& bytes, bool gzip);

}  // namespace ald::testing
