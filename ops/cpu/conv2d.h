// Conv2d on oneDNN: forward, backward-data and backward-weights primitives built once. The
// activations are in the layouts the caller names (x and dx in the input layout, y and dy in the
// output layout), exactly: the primitives are created on those descriptors, so no activation is
// reordered (but around a layer of few channels between plain activations, where each pass
// runs on a layout with a direct kernel, bridged: see BuildPrimitives). Weights take the layout oneDNN prefers (format_tag::any, usually blocked);
// plain OIHW weight tensors at the Tensor API are reordered through LayoutBridges, while the
// *Native calls take memories already in the chosen layouts and run no reorder at all.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/conv2d.h"
#include "ops/cpu/im2col_weight_grad.h"
#include "ops/cpu/layout.h"
#include "ops/cpu/relu.h"
#include "ops/cpu/weighted_layer.h"

namespace ald::cpu {

class Conv2dCpu {
 public:
  using Passes = WeightedLayerPasses<dnnl::convolution_forward, dnnl::convolution_backward_data,
                                     dnnl::convolution_backward_weights>;

  // Validates the shapes (InferConv2d) and the layouts, and builds the primitives, reorders and
  // scratch once. x and dx follow `input_layout`, y, dy (and the fused ReLU's tensors) follow
  // `output_layout`; they may differ (the stem convolution reads a plain 3-channel image and
  // writes blocked activations). `dtype` is the activations' element type: bf16 runs the
  // convolution on bf16 weights (passes().PrepareWeights) with f32 weight and bias gradients.
  static absl::StatusOr<std::unique_ptr<Conv2dCpu>> Create(
      const Shape& input, const Shape& weight, const Conv2dAttrs& attrs,
      ActivationLayout input_layout = ActivationLayout::kPlain,
      ActivationLayout output_layout = ActivationLayout::kPlain, DType dtype = DType::kF32);

  const Conv2dShapes& shapes() const { return shapes_; }
  const Conv2dAttrs& attrs() const { return attrs_; }
  ActivationLayout input_layout() const { return input_layout_; }
  ActivationLayout output_layout() const { return output_layout_; }

  // y = conv(x, w) + b, then relu when attrs().fuse_relu. `b` is not read (may be undefined)
  // without bias.
  absl::Status Forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y) {
    return passes_.Forward(x, w, b, y);
  }
  // Only with fuse_relu: turns dy, the gradient w.r.t. the fused output y = relu(conv), into the
  // gradient w.r.t. conv, which both backward calls take. dz may be dy. Kept as its own call so
  // that BackwardData and BackwardWeights do not each redo it.
  absl::Status FusedReluBackward(const Tensor& y, const Tensor& dy, Tensor& dz);
  // dx from the gradient w.r.t. the convolution's output.
  absl::Status BackwardData(const Tensor& dy, const Tensor& w, Tensor& dx) {
    return passes_.BackwardData(dy, w, dx);
  }
  // dw, and db with bias (otherwise `db` is not written and may be undefined). A bf16
  // channels-last layer that Im2colWeightGradCpu::Pays for runs it instead of oneDNN's
  // backward-weights primitive (which the native call below still runs).
  absl::Status BackwardWeights(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor& db) {
    if (im2col_weight_grad_ != nullptr) return im2col_weight_grad_->Run(x, dy, dw, db);
    return passes_.BackwardWeights(x, dy, dw, db);
  }
  bool uses_im2col_weight_grad() const { return im2col_weight_grad_ != nullptr; }

  // The same passes on memories already in the primitives' layouts (passes().forward_pd()
  // .src_desc(), ...; for the activations these are ActivationDesc of the layouts given to
  // Create); bias is plain [K].
  Passes& passes() { return passes_; }
  const Passes& passes() const { return passes_; }
  // The fused ReLU's backward in the output layout.
  absl::Status FusedReluBackwardNative(const dnnl::memory& dst, const dnnl::memory& diff_dst,
                                       const dnnl::memory& diff_conv);

 private:
  Conv2dCpu() = default;
  absl::Status BuildPrimitives();
  // The Tensor API's activation layouts.
  ActivationLayout input_layout_ = ActivationLayout::kPlain;
  ActivationLayout output_layout_ = ActivationLayout::kPlain;
  DType dtype_ = DType::kF32;
  absl::Status RequireFusedRelu() const;

  Conv2dShapes shapes_;
  Conv2dAttrs attrs_;
  Passes passes_;
  // With fuse_relu: ReLU in the output layout, for its backward (Tensor API and native).
  std::unique_ptr<ReluCpu> relu_;
  // Set for the layers whose bf16 NHWC backward-weights oneDNN runs slowly.
  std::unique_ptr<Im2colWeightGradCpu> im2col_weight_grad_;
};

}  // namespace ald::cpu
