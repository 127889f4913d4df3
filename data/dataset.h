// An image-classification dataset held in memory as raw bytes, with what normalisation needs,
// and LoadDataset, which reads one split of fashion_mnist, cifar10 or a synthetic set by name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ald {

enum class Split { kTrain, kTest };
const char* SplitName(Split split);  // "train", "test"
absl::StatusOr<Split> ParseSplit(const std::string& name);

struct Dataset {
  std::string name;    // "fashion_mnist/train", for messages
  std::string source;  // the file (or CIFAR's directory) it was read from, for messages
  int64_t count = 0;
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  int num_classes = 0;
  std::vector<uint8_t> pixels;  // [count, channels, height, width]
  std::vector<int32_t> labels;  // [count], each in [0, num_classes)
  // Per channel, of pixel / 255: normalised = (pixel / 255 - mean) / stddev.
  std::vector<float> mean;
  std::vector<float> stddev;

  int64_t image_bytes() const { return channels * height * width; }
  const uint8_t* image(int64_t index) const { return pixels.data() + index * image_bytes(); }
};

// A dataset generated from (seed, split, index) alone, for tests and benchmarks: each class has
// its own mean intensity per channel, so even a linear model learns it within a few steps.
struct SyntheticOptions {
  int64_t train_count = 1024;
  int64_t test_count = 256;
  int64_t channels = 3;
  int64_t height = 8;
  int64_t width = 8;
  int num_classes = 4;
  uint64_t seed = 1;
};

// `name` is fashion_mnist (IDX files, .gz or plain, in `dir`), cifar10 (the binary version's
// .bin files in `dir` or in `dir`/cifar-10-batches-bin) or synthetic (`dir` unused). The real
// datasets get their published normalisation constants; synthetic ones their measured statistics.
absl::StatusOr<Dataset> LoadDataset(const std::string& name, const std::string& dir, Split split,
                                    const SyntheticOptions& synthetic = {});

// The model is built for one image size: InvalidArgument naming both sources (and --data_dir)
// when `train` and `test` images differ in channels, height or width.
absl::Status CheckSameImageSize(const Dataset& train, const Dataset& test);

// Per-channel mean and (population) standard deviation of pixel / 255 over the whole dataset.
struct ChannelStats {
  std::vector<float> mean;
  std::vector<float> stddev;
};
ChannelStats ComputeChannelStats(const Dataset& dataset);

}  // namespace ald
