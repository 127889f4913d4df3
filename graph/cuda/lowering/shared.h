// Lowerings that several ops share on CUDA: pieces for graph/cuda/lowering/<op>.cc.
#pragma once

#include "core/bfloat16.h"
#include "graph/cuda/cuda_lowering.h"

namespace ald::cuda::lowering {

// The gradient w.r.t. a fused ReLU's input: a value of its own, of y's type (dy may be shared by
// another reader of y, so it is not masked in place), as the CPU lowering does. `Element` is
// what the layer's FusedReluBackward takes: float, or void for a layer of either type.
template <typename Element = float, typename Layer>
ValueId FusedReluGradient(CudaPlanBuilder& b, const BackwardStep& step, Layer* layer) {
  const Node& node = b.node(step.node);
  const ValueId y = node.outputs[0], dy = step.output_grad;
  const ValueId gradient = b.NewValue(node.name + "/pre_relu_grad", b.shape(y), b.value(y).dtype,
                                      ValueRole::kGradient);
  b.Add(node.name + " relu-backward", true, {y, dy}, {gradient}, [=](CudaPlan& p) {
    return layer->FusedReluBackward(p.ptr<const Element>(y), p.ptr<const Element>(dy),
                                    p.ptr<Element>(gradient));
  });
  return gradient;
}

// The weights a convolution or linear layer reads: the store's fp32 `w`, or for a bf16 layer a
// bf16 copy that a launch casts from it (once per step, as the first reader of the weights
// after the bucket's combine; backward-data reads the same copy: WeightsRead).
template <typename Layer>
ValueId PrepareWeights(CudaPlanBuilder& b, int index, Layer* layer) {
  const Node& node = b.node(index);
  const ValueId w = node.inputs[1];
  if (layer->dtype() != DType::kBF16) return w;
  const ValueId prepared =
      b.NewValue(node.name + "/weight@bf16", b.shape(w), DType::kBF16, ValueRole::kSaved);
  b.set_saved(index, prepared);
  b.Add(node.name + " cast-weights", false, {w}, {prepared}, [=](CudaPlan& p) {
    return layer->PrepareWeights(p.ptr<const float>(w), p.ptr<BFloat16>(prepared));
  });
  return prepared;
}

// What backward-data reads as the weights of the layer at `index`: PrepareWeights's result.
inline ValueId WeightsRead(CudaPlanBuilder& b, int index) {
  const ValueId prepared = b.saved(index);
  return prepared != kNoValue ? prepared : b.node(index).inputs[1];
}

// A unary op whose kernel has Forward(x, y).
template <typename Kernel>
absl::Status UnaryForward(CudaPlanBuilder& b, int index, Kernel* kernel) {
  const Node& node = b.node(index);
  b.set_kernel(index, kernel);
  const ValueId x = node.inputs[0], y = node.outputs[0];
  b.Add(node.name + " forward", false, {x}, {y},
        [=](CudaPlan& p) { return kernel->Forward(p.ptr<float>(x), p.ptr<float>(y)); });
  return absl::OkStatus();
}

}  // namespace ald::cuda::lowering
