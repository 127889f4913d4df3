// Reader for CIFAR-10's binary format: records of 1 label byte and a 3x32x32 image in CHW order;
// data_batch_1..5.bin hold the training set, test_batch.bin the test set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ald {

inline constexpr int64_t kCifar10Channels = 3;
inline constexpr int64_t kCifar10Side = 32;
inline constexpr int64_t kCifar10ImageBytes = kCifar10Channels * kCifar10Side * kCifar10Side;
inline constexpr int64_t kCifar10RecordBytes = 1 + kCifar10ImageBytes;
inline constexpr int kCifar10Classes = 10;

struct Cifar10Records {
  std::vector<uint8_t> pixels;  // [count, 3, 32, 32]
  std::vector<int32_t> labels;  // [count]
};

// The file names of one split, in the order their records form the dataset.
std::vector<std::string> Cifar10FileNames(bool train);

// Appends the records of one file; errors name the file: missing, empty, not a whole number of
// records, label out of range.
absl::Status AppendCifar10File(const std::string& path, Cifar10Records& records);

}  // namespace ald
