#include "ops/global_avgpool.h"

#include "core/status.h"
#include "ops/pool2d_window.h"

namespace ald {

absl::StatusOr<Shape> GlobalAvgPoolShape(const Shape& input) {
  RETURN_IF_ERROR(CheckNchwInput("global_avgpool", input));
  return Shape{input[0], input[1]};
}

}  // namespace ald
