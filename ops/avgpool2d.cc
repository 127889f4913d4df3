#include "ops/avgpool2d.h"

namespace ald {

absl::StatusOr<Shape> AvgPool2dShape(const Shape& input, const AvgPool2dAttrs& attrs) {
  return Pool2dOutputShape("avgpool2d", input, attrs.window);
}

}  // namespace ald
