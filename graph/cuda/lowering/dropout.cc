// dropout on CUDA: the mask is regenerated from the step's dropout key in the backward.
#include "graph/cuda/lowering/shared.h"
#include "ops/cuda/dropout.h"

namespace ald::cuda {
namespace {

absl::Status Forward(CudaPlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const ValueId x = node.inputs[0], y = node.outputs[0];
  ASSIGN_OR_RETURN(DropoutCuda * dropout,
                   b.Own(index, DropoutCuda::Create(b.handles(), b.shape(x),
                                                    std::get<DropoutAttrs>(node.attrs))));
  b.set_kernel(index, dropout);
  const bool training = b.training();
  b.Add(node.name + " forward", false, {x}, {y}, [=](CudaPlan& p) {
    return training ? dropout->Forward(p.ptr<float>(x), p.dropout_key(), p.ptr<float>(y))
                    : dropout->ForwardInference(p.ptr<float>(x), p.ptr<float>(y));
  });
  return absl::OkStatus();
}

absl::Status Backward(CudaPlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(DropoutCuda * dropout, b.kernel<DropoutCuda>(step.node));
  const ValueId dy = step.output_grad, dx = step.input_grads[0];
  if (dx == kNoValue) return absl::OkStatus();
  b.Add(b.node(step.node).name + " backward", true, {dy}, {dx}, [=](CudaPlan& p) {
    return dropout->Backward(p.ptr<float>(dy), p.dropout_key(), p.ptr<float>(dx));
  });
  return absl::OkStatus();
}

}  // namespace

OpLowering<CudaPlanBuilder> DropoutCudaLowering() { return {&Forward, &Backward}; }

}  // namespace ald::cuda
