#include "ops/add.h"

#include "absl/strings/str_cat.h"

namespace ald {

absl::StatusOr<Shape> AddShape(const Shape& a, const Shape& b) {
  if (a != b) {
    return absl::InvalidArgumentError(absl::StrCat("add: input shapes ", a.ToString(), " and ",
                                                   b.ToString(), " differ (no broadcasting)"));
  }
  return a;
}

}  // namespace ald
