// Zero borders around every image of a dataset (torchvision's Pad): Fashion-MNIST's 28x28 padded
// by 2 is the 32x32 that VGG's five halvings need.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "data/dataset.h"

namespace ald {

// `dataset` with `pad` pixels of value 0 added on every side of every image (the normalisation
// constants are kept, as torchvision keeps them). InvalidArgument for a negative pad.
absl::StatusOr<Dataset> PadImages(Dataset dataset, int64_t pad);

}  // namespace ald
