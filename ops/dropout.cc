#include "ops/dropout.h"

#include "absl/strings/str_cat.h"

namespace ald {

absl::StatusOr<Shape> DropoutShape(const Shape& input, const DropoutAttrs& attrs) {
  if (!(attrs.p >= 0.0f && attrs.p < 1.0f)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dropout: p = ", attrs.p, " is outside [0, 1) (input ", input.ToString(), ")"));
  }
  if (static_cast<uint64_t>(input.num_elements()) > DropoutKeepStream::kLayerStride) {
    return absl::InvalidArgumentError(
        absl::StrCat("dropout: input ", input.ToString(), " has more than 2^40 elements"));
  }
  return input;
}

std::vector<uint8_t> DropoutKeepMask(const DropoutAttrs& attrs, const DropoutKey& key,
                                     int64_t count) {
  DropoutKeepStream stream(attrs, key);
  std::vector<uint8_t> keep(count);
  for (uint8_t& kept : keep) kept = stream.Next() ? 1 : 0;
  return keep;
}

}  // namespace ald
