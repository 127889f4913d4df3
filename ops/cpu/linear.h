// Linear on oneDNN's inner product: forward, backward-data and backward-weights primitives built
// once in the layouts oneDNN prefers (format_tag::any); plain [N, in] / [out, in] tensors at the
// Tensor API are bridged, the native passes (passes()) take the chosen layouts directly.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/cpu/weighted_layer.h"
#include "ops/linear.h"

namespace ald::cpu {

class LinearCpu {
 public:
  using Passes = WeightedLayerPasses<dnnl::inner_product_forward,
                                     dnnl::inner_product_backward_data,
                                     dnnl::inner_product_backward_weights>;

  // Validates the shapes (InferLinear) and builds the primitives, reorders and scratch once.
  // `dtype` is x's, y's and their gradients' element type (bf16: bf16 weights, see Conv2dCpu).
  static absl::StatusOr<std::unique_ptr<LinearCpu>> Create(const Shape& input, const Shape& weight,
                                                           const LinearAttrs& attrs,
                                                           DType dtype = DType::kF32);

  const LinearShapes& shapes() const { return shapes_; }

  // y = x·wᵀ + b; `b` is not read (may be undefined) without bias.
  absl::Status Forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
    return passes_.Forward(x, w, b, y);
  }
  // dx = dy·w.
  absl::Status BackwardData(const Tensor& dy, const Tensor& w, Tensor& dx) {
    return passes_.BackwardData(dy, w, dx);
  }
  // dw = dyᵀ·x, and db with bias (otherwise `db` is not written and may be undefined).
  absl::Status BackwardWeights(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor& db) {
    return passes_.BackwardWeights(x, dy, dw, db);
  }

  // Native passes and the chosen layouts (passes().forward_pd().weights_desc(), ...).
  Passes& passes() { return passes_; }
  const Passes& passes() const { return passes_; }

 private:
  LinearCpu() = default;

  LinearShapes shapes_;
  Passes passes_;
};

}  // namespace ald::cpu
