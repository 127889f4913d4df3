// Lowerings that several ops share on CUDA: pieces for graph/cuda/lowering/<op>.cc.
#pragma once

#include "graph/cuda/cuda_lowering.h"

namespace ald::cuda::lowering {

// The gradient w.r.t. a fused ReLU's input: a value of its own (dy may be shared by another
// reader of y, so it is not masked in place), as the CPU lowering does.
template <typename Layer>
ValueId FusedReluGradient(CudaPlanBuilder& b, const BackwardStep& step, Layer* layer) {
  const Node& node = b.node(step.node);
  const ValueId y = node.outputs[0], dy = step.output_grad;
  const ValueId gradient =
      b.NewValue(node.name + "/pre_relu_grad", b.shape(y), DType::kF32, ValueRole::kGradient);
  b.Add(node.name + " relu-backward", true, {y, dy}, {gradient}, [=](CudaPlan& p) {
    return layer->FusedReluBackward(p.ptr<float>(y), p.ptr<float>(dy), p.ptr<float>(gradient));
  });
  return gradient;
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
