#include "ops/maxpool2d.h"

namespace ald {

absl::StatusOr<Shape> MaxPool2dShape(const Shape& input, const MaxPool2dAttrs& attrs) {
  return Pool2dOutputShape("maxpool2d", input, attrs);
}

}  // namespace ald
