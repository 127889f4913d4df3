// A change of element type (f32 <-> bf16) of an activation or its gradient on oneDNN's reorder,
// in either activation layout. The compiler inserts it where --precision=bf16 meets an op that
// runs in f32 only (graph/precision_pass.h): the graph input, the logits before the loss.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/cpu/layout.h"

namespace ald::cpu {

class CastCpu {
 public:
  // x (and dx) of `from` in `from_layout`, y (and dy) of `to` in `to_layout`, all of `shape`
  // (one reorder changes both: the image batch becomes NHWC bf16 in one pass). bf16 from f32
  // rounds to nearest even.
  static absl::StatusOr<std::unique_ptr<CastCpu>> Create(const Shape& shape,
                                                         ActivationLayout from_layout,
                                                         ActivationLayout to_layout, DType from,
                                                         DType to);

  // y = x in `to`.
  absl::Status Forward(const Tensor& x, Tensor& y);
  // dx = dy in `from`: the gradient of a cast is the cast back.
  absl::Status Backward(const Tensor& dy, Tensor& dx);

 private:
  Shape shape_;
  DType from_ = DType::kF32, to_ = DType::kF32;
  dnnl::memory::desc from_desc_, to_desc_;
  dnnl::reorder forward_, backward_;
};

}  // namespace ald::cpu
