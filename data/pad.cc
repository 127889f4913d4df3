#include "data/pad.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ald {

absl::StatusOr<Dataset> PadImages(Dataset dataset, int64_t pad) {
  if (pad < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--pad: ", pad, " pixels; expected a border of 0 or more"));
  }
  if (pad == 0) return dataset;
  const int64_t height = dataset.height + 2 * pad, width = dataset.width + 2 * pad;
  std::vector<uint8_t> padded(static_cast<size_t>(dataset.count * dataset.channels * height *
                                                  width),
                              0);
  for (int64_t plane = 0; plane < dataset.count * dataset.channels; ++plane) {
    const uint8_t* from = dataset.pixels.data() + plane * dataset.height * dataset.width;
    uint8_t* to = padded.data() + plane * height * width + pad * width + pad;
    for (int64_t row = 0; row < dataset.height; ++row) {
      std::copy_n(from + row * dataset.width, dataset.width, to + row * width);
    }
  }
  dataset.pixels = std::move(padded);
  dataset.height = height;
  dataset.width = width;
  return dataset;
}

}  // namespace ald
