// shortcut_pad (ResNet option A shortcut) on CUDA: a unary op (the backward needs only dy).
#include "graph/cuda/lowering/shared.h"
#include "ops/cuda/shortcut_pad.h"

namespace ald::cuda {
namespace {

absl::Status Forward(CudaPlanBuilder& b, int index) {
  const Node& node = b.node(index);
  ASSIGN_OR_RETURN(ShortcutPadCuda * pad,
                   b.Own(index, ShortcutPadCuda::Create(b.handles(), b.shape(node.inputs[0]),
                                                        std::get<ShortcutPadAttrs>(node.attrs))));
  return lowering::UnaryForward(b, index, pad);
}

absl::Status Backward(CudaPlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(ShortcutPadCuda * pad, b.kernel<ShortcutPadCuda>(step.node));
  const ValueId dy = step.output_grad, dx = step.input_grads[0];
  if (dx == kNoValue) return absl::OkStatus();
  b.Add(b.node(step.node).name + " backward", true, {dy}, {dx},
        [=](CudaPlan& p) { return pad->Backward(p.ptr<float>(dy), p.ptr<float>(dx)); });
  return absl::OkStatus();
}

}  // namespace

OpLowering<CudaPlanBuilder> ShortcutPadCudaLowering() { return {&Forward, &Backward}; }

}  // namespace ald::cuda
