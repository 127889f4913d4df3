// Readers for IDX files, the format of MNIST and Fashion-MNIST: a big-endian magic number and
// dimensions, then unsigned bytes. Files may be gzip'd or plain.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ald {

inline constexpr uint32_t kIdxImagesMagic = 0x00000803;  // u8, rank 3: [count, rows, cols]
inline constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // u8, rank 1: [count]

struct IdxImages {
  int64_t count = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<uint8_t> pixels;  // [count, rows, cols]
};

// Errors name the file and the problem: missing, wrong magic, truncated, trailing bytes.
absl::StatusOr<IdxImages> ReadIdxImages(const std::string& path);
// Also checks that every label is in [0, num_classes).
absl::StatusOr<std::vector<int32_t>> ReadIdxLabels(const std::string& path, int num_classes);

}  // namespace ald
