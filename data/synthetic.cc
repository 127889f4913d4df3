#include "data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/rng.h"

namespace ald {
namespace {

// Class means spread over [48, 208] and rotated per channel, so every channel separates classes
// and noise of +-40 leaves neighbouring classes overlapping but distinguishable.
constexpr float kLowestMean = 48.0f, kMeanRange = 160.0f, kNoise = 40.0f;

float ClassMean(int label, int64_t channel, int num_classes) {
  if (num_classes == 1) return kLowestMean;
  const int64_t rank = (label + channel) % num_classes;
  return kLowestMean + kMeanRange * static_cast<float>(rank) / static_cast<float>(num_classes - 1);
}

}  // namespace

absl::StatusOr<Dataset> MakeSyntheticDataset(const SyntheticOptions& options, Split split) {
  const int64_t count = split == Split::kTrain ? options.train_count : options.test_count;
  if (count < 1 || count > std::numeric_limits<uint32_t>::max() || options.channels < 1 ||
      options.height < 1 || options.width < 1 || options.num_classes < 1 ||
      options.num_classes > 256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "synthetic dataset: needs 1 to 2^32-1 examples, positive channels, height and width, and "
        "1 to 256 classes; got ",
        count, " examples of ", options.channels, "x", options.height, "x", options.width, " in ",
        options.num_classes, " classes"));
  }
  Dataset dataset;
  dataset.name = absl::StrCat("synthetic/", SplitName(split));
  dataset.count = count;
  dataset.channels = options.channels;
  dataset.height = options.height;
  dataset.width = options.width;
  dataset.num_classes = options.num_classes;
  dataset.pixels.resize(count * dataset.image_bytes());
  dataset.labels.resize(count);
  const int64_t plane = options.height * options.width;
  for (int64_t index = 0; index < count; ++index) {
    Rng rng(options.seed, static_cast<uint32_t>(split), static_cast<uint32_t>(index),
            RngStream::kTest);
    const int label = static_cast<int>(rng.Below(static_cast<uint32_t>(options.num_classes)));
    dataset.labels[index] = label;
    uint8_t* pixel = dataset.pixels.data() + index * dataset.image_bytes();
    for (int64_t channel = 0; channel < options.channels; ++channel) {
      const float mean = ClassMean(label, channel, options.num_classes);
      for (int64_t i = 0; i < plane; ++i) {
        const float value = std::round(mean + rng.Uniform(-kNoise, kNoise));
        *pixel++ = static_cast<uint8_t>(std::clamp(value, 0.0f, 255.0f));
      }
    }
  }
  ChannelStats stats = ComputeChannelStats(dataset);
  dataset.mean = std::move(stats.mean);
  dataset.stddev = std::move(stats.stddev);
  return dataset;
}

}  // namespace ald
