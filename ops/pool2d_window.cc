#include "ops/pool2d_window.h"

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace ald {

std::string DescribeWindow(const Pool2dWindow& window) {
  return absl::StrCat(window.kernel[0], "x", window.kernel[1], "/", window.stride[0], "x",
                      window.stride[1], " pad ", window.padding[0], "x", window.padding[1]);
}

absl::Status CheckNchwInput(const std::string& op, const Shape& input) {
  if (input.rank() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": input ", input.ToString(), " has rank ",
                                                   input.rank(), ", expected [N, C, H, W]"));
  }
  if (input.num_elements() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": input ", input.ToString(), " is empty"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Shape> Pool2dOutputShape(const std::string& op, const Shape& input,
                                        const Pool2dWindow& window) {
  RETURN_IF_ERROR(CheckNchwInput(op, input));
  const std::string where =
      absl::StrCat(" (window ", DescribeWindow(window), ", input ", input.ToString(), ")");
  std::vector<int64_t> dims = {input[0], input[1], 0, 0};
  for (int axis = 0; axis < 2; ++axis) {
    const int64_t kernel = window.kernel[axis], stride = window.stride[axis],
                  padding = window.padding[axis], extent = input[2 + axis];
    if (kernel < 1 || stride < 1 || padding < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": kernel and stride must be >= 1 and padding >= 0", where));
    }
    if (2 * padding > kernel) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": padding ", padding, " is more than half the kernel ", kernel, where));
    }
    if (kernel > extent + 2 * padding) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": kernel ", kernel,
                                                     " is larger than the padded input ",
                                                     extent + 2 * padding, where));
    }
    dims[2 + axis] = (extent + 2 * padding - kernel) / stride + 1;
  }
  return Shape(std::move(dims));
}

}  // namespace ald
