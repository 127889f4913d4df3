// What a model is built for: the batch shape of its input and the number of classes, so the
// same definition serves 1x28x28 Fashion-MNIST and 3x32x32 CIFAR-10.
#pragma once

#include <cstdint>

#include "core/shape.h"

namespace ald {

enum class ResNetShortcut {
  kPadding,     // He et al.'s option A: stride-2 subsample + zero-padded channels, no parameters
  kProjection,  // option B: 1x1 convolution + batch norm
};

struct ModelOptions {
  int64_t batch = 128;
  int64_t channels = 3, height = 32, width = 32;
  int64_t classes = 10;
  ResNetShortcut shortcut = ResNetShortcut::kPadding;  // CIFAR ResNets only; ResNet-18 projects

  Shape input_shape() const { return Shape{batch, channels, height, width}; }
};

}  // namespace ald
