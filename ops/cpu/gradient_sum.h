// total = Σ parts over bf16 gradients (a value read by several ops, such as a residual block's
// input) on oneDNN's sum primitive, which accumulates in f32 and rounds once. f32 gradients
// keep the compiler's WeightedSumCpu (ops/mixing.h). Element-wise, so layouts do not matter as
// long as all parts share one.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace ald::cpu {

class GradientSumCpu {
 public:
  static absl::StatusOr<std::unique_ptr<GradientSumCpu>> Create(int num_parts, int64_t length,
                                                                DType dtype);
  // `total` may be one of the parts.
  absl::Status Run(const std::vector<const Tensor*>& parts, Tensor& total);

 private:
  int num_parts_ = 0;
  int64_t length_ = 0;
  DType dtype_ = DType::kF32;
  dnnl::memory::desc desc_;
  dnnl::sum sum_;
};

}  // namespace ald::cpu
