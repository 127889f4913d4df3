// The window of a 2-D pooling op (kernel, stride, symmetric padding over H and W of NCHW) and
// its shape rule, shared by maxpool2d and avgpool2d.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/shape.h"

namespace ald {

struct Pool2dWindow {
  std::array<int64_t, 2> kernel{2, 2};  // {height, width}
  std::array<int64_t, 2> stride{2, 2};
  std::array<int64_t, 2> padding{0, 0};  // added on both sides, as in PyTorch
};

// [N, C, H, W] -> [N, C, (H + 2p - k) / s + 1, ...] (floor, PyTorch's ceil_mode = false).
// Rejects a rank other than 4, empty inputs, kernel or stride < 1, padding < 0 or more than
// half the kernel (PyTorch's rule: it keeps every window overlapping the real input), and a
// kernel larger than the padded input. Errors start with `op`.
absl::StatusOr<Shape> Pool2dOutputShape(const std::string& op, const Shape& input,
                                        const Pool2dWindow& window);

// "3x3/2 pad 1": the window in error messages.
std::string DescribeWindow(const Pool2dWindow& window);

// An input of rank 4 with every extent >= 1, else an error naming `op` and the shape.
absl::Status CheckNchwInput(const std::string& op, const Shape& input);

}  // namespace ald
