// Test cases shared by the pooling tests: input shapes and windows covering batch 1, odd and
// non-square sizes, stride 2 with padding and non-square kernels.
#pragma once

#include <vector>

#include "core/shape.h"
#include "ops/pool2d_window.h"
#include "ops/ref/pool2d_window.h"

namespace ald::testing {

struct PoolCase {
  Shape input;
  Pool2dWindow window;
};

inline const std::vector<PoolCase>& PoolCases() {
  static const std::vector<PoolCase> cases = {
      {Shape{1, 1, 4, 4}, {.kernel = {2, 2}, .stride = {2, 2}, .padding = {0, 0}}},
      {Shape{2, 3, 7, 5}, {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}},
      {Shape{1, 2, 9, 6}, {.kernel = {3, 3}, .stride = {1, 1}, .padding = {1, 1}}},
      {Shape{3, 4, 8, 11}, {.kernel = {2, 3}, .stride = {2, 1}, .padding = {1, 1}}},
      {Shape{2, 2, 6, 6}, {.kernel = {5, 4}, .stride = {2, 3}, .padding = {2, 2}}},
  };
  return cases;
}

// Cases for the nChw16c and nChw8c layouts: C = 16 and 32, batch 1 and 3, odd sizes, stride 2
// with and without padding, and a non-square window.
inline const std::vector<PoolCase>& BlockedPoolCases() {
  static const std::vector<PoolCase> cases = {
      {Shape{1, 16, 7, 5}, {.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}}},
      {Shape{3, 32, 9, 7}, {.kernel = {2, 2}, .stride = {2, 2}, .padding = {0, 0}}},
      {Shape{3, 16, 8, 11}, {.kernel = {2, 3}, .stride = {2, 1}, .padding = {1, 1}}},
  };
  return cases;
}

inline ref::PoolGeometry GeometryOf(const Shape& input, const Pool2dWindow& window) {
  return {.batch = input[0],
          .channels = input[1],
          .height = input[2],
          .width = input[3],
          .kernel_h = window.kernel[0],
          .kernel_w = window.kernel[1],
          .stride_h = window.stride[0],
          .stride_w = window.stride[1],
          .pad_h = window.padding[0],
          .pad_w = window.padding[1]};
}

}  // namespace ald::testing
