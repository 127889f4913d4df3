// Turns dataset examples into a training batch of f32 images and i32 labels: per channel
// (pixel / 255 - mean) / stddev, optionally after CIFAR-style augmentation (a random crop of
// the image padded with 4 zero pixels on each side, then a random horizontal flip).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "data/dataset.h"

namespace ald {

inline constexpr int64_t kAugmentPadding = 4;

// Where one augmented image comes from: the crop window's corner in the padded image, and
// whether the crop is mirrored. The default is the image itself.
struct CropFlip {
  int64_t dy = kAugmentPadding;
  int64_t dx = kAugmentPadding;
  bool flip = false;
};
CropFlip DrawCropFlip(Rng& rng);

class BatchAssembler {
 public:
  // Fails when the dataset's mean/stddev do not give one positive stddev per channel.
  static absl::StatusOr<BatchAssembler> Create(const Dataset& dataset);

  // Writes the examples `indices` into `images` [n, C, H, W] and `labels` [n], n = indices.size().
  // With `augment`, image i is cropped and flipped by the draws at position 4 * i of that
  // stream, so a batch's augmentation depends only on where the stream was made, not on order.
  void Assemble(std::span<const int64_t> indices, Rng* augment, std::span<float> images,
                std::span<int32_t> labels) const;
  // One example's image, cropped and flipped by `crop`, normalised, into out[C * H * W].
  void WriteImage(int64_t index, const CropFlip& crop, float* out) const;

 private:
  explicit BatchAssembler(const Dataset& dataset);

  const Dataset* dataset_;
  std::vector<std::array<float, 256>> normalized_;  // [channel][pixel value]
};

// Checks that caller-provided batch tensors fit `dataset`: CPU f32 images [batch_size, C, H, W]
// and i32 labels [batch_size].
absl::Status CheckBatchTensors(const Dataset& dataset, int64_t batch_size, const Tensor& images,
                               const Tensor& labels);

}  // namespace ald
