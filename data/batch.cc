#include "data/batch.h"

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace ald {
namespace {

constexpr uint64_t kDrawsPerImage = 4;  // dy, dx, flip, and room for Below's rare rejection

absl::Status CheckTensor(const Tensor& tensor, DType dtype, const Shape& shape,
                         const std::string& what) {
  if (tensor.defined() && tensor.dtype() == dtype && tensor.shape() == shape &&
      tensor.device().type == DeviceType::kCpu) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, " tensor is ", tensor.defined() ? tensor.Describe() : "undefined",
                   ", expected ", DTypeName(dtype), shape.ToString(), " cpu"));
}

}  // namespace

CropFlip DrawCropFlip(Rng& rng) {
  CropFlip crop;
  crop.dy = rng.Below(2 * kAugmentPadding + 1);
  crop.dx = rng.Below(2 * kAugmentPadding + 1);
  crop.flip = rng.Below(2) == 1;
  return crop;
}

absl::StatusOr<BatchAssembler> BatchAssembler::Create(const Dataset& dataset) {
  const auto channels = static_cast<size_t>(dataset.channels);
  bool positive = true;
  for (float stddev : dataset.stddev) positive &= stddev > 0.0f;
  if (dataset.mean.size() != channels || dataset.stddev.size() != channels || !positive) {
    return absl::InvalidArgumentError(absl::StrCat(
        dataset.name, ": normalisation needs one mean and one positive stddev per channel (",
        channels, "); has ", dataset.mean.size(), " means and ", dataset.stddev.size(),
        " stddevs"));
  }
  return BatchAssembler(dataset);
}

BatchAssembler::BatchAssembler(const Dataset& dataset)
    : dataset_(&dataset), normalized_(dataset.channels) {
  for (int64_t channel = 0; channel < dataset.channels; ++channel) {
    for (int value = 0; value < 256; ++value) {
      normalized_[channel][value] =
          (static_cast<float>(value) / 255.0f - dataset.mean[channel]) / dataset.stddev[channel];
    }
  }
}

void BatchAssembler::Assemble(std::span<const int64_t> indices, Rng* augment,
                              std::span<float> images, std::span<int32_t> labels) const {
  const int64_t image_size = dataset_->image_bytes();
  for (size_t i = 0; i < indices.size(); ++i) {
    CropFlip crop;
    if (augment != nullptr) {
      augment->Seek(kDrawsPerImage * i);
      crop = DrawCropFlip(*augment);
    }
    WriteImage(indices[i], crop, images.data() + i * image_size);
    labels[i] = dataset_->labels[indices[i]];
  }
}

void BatchAssembler::WriteImage(int64_t index, const CropFlip& crop, float* out) const {
  const int64_t height = dataset_->height, width = dataset_->width;
  const uint8_t* source = dataset_->image(index);
  for (int64_t channel = 0; channel < dataset_->channels; ++channel) {
    const std::array<float, 256>& normalized = normalized_[channel];
    for (int64_t y = 0; y < height; ++y) {
      // Output (y, x) is padded-image pixel (y + dy, x' + dx), x' mirrored when flipping.
      const int64_t source_y = y + crop.dy - kAugmentPadding;
      const bool row_inside = source_y >= 0 && source_y < height;
      for (int64_t x = 0; x < width; ++x) {
        const int64_t source_x = (crop.flip ? width - 1 - x : x) + crop.dx - kAugmentPadding;
        const bool inside = row_inside && source_x >= 0 && source_x < width;
        *out++ = normalized[inside ? source[source_y * width + source_x] : 0];
      }
    }
    source += height * width;
  }
}

absl::Status CheckBatchTensors(const Dataset& dataset, int64_t batch_size, const Tensor& images,
                               const Tensor& labels) {
  const Shape image_shape{batch_size, dataset.channels, dataset.height, dataset.width};
  RETURN_IF_ERROR(CheckTensor(images, DType::kF32, image_shape, "images"));
  return CheckTensor(labels, DType::kI32, Shape{batch_size}, "labels");
}

}  // namespace ald
