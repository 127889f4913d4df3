// Lowerings that several ops share on CUDA: pieces for graph/cuda/lowering/<op>.cc, and the
// whole lowering of an element-wise op (a table row, no file of its own).
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

// Which forward value an element-wise op's backward reads: its output lets the forward run in
// place and its input be reused (relu); its input is what most derivatives need.
enum class BackwardReads { kInput, kOutput };

// An element-wise op whose kernel has Create(handles, shape), Forward(x, y) and
// Backward(x or y, dy, dx) on fp32 device pointers.
template <typename Kernel, BackwardReads reads>
OpLowering<CudaPlanBuilder> ElementwiseLowering() {
  return {[](CudaPlanBuilder& b, int index) -> absl::Status {
            const ValueId x = b.node(index).inputs[0];
            ASSIGN_OR_RETURN(Kernel * kernel,
                             b.Own(index, Kernel::Create(b.handles(), b.shape(x))));
            return UnaryForward(b, index, kernel);
          },
          [](CudaPlanBuilder& b, const BackwardStep& step) -> absl::Status {
            ASSIGN_OR_RETURN(Kernel * kernel, b.kernel<Kernel>(step.node));
            const Node& node = b.node(step.node);
            const ValueId saved =
                reads == BackwardReads::kOutput ? node.outputs[0] : node.inputs[0];
            const ValueId dy = step.output_grad, dx = step.input_grads[0];
            if (dx == kNoValue) return absl::OkStatus();
            b.Add(node.name + " backward", true, {saved, dy}, {dx}, [=](CudaPlan& p) {
              return kernel->Backward(p.ptr<float>(saved), p.ptr<float>(dy), p.ptr<float>(dx));
            });
            return absl::OkStatus();
          }};
}

}  // namespace ald::cuda::lowering
