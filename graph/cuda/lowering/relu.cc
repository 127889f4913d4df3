// relu on cuDNN; the backward reads the forward output, so the input may be reused.
#include "graph/cuda/lowering/shared.h"
#include "ops/cuda/relu.h"

namespace ald::cuda {
namespace {

absl::Status Forward(CudaPlanBuilder& b, int index) {
  const ValueId x = b.node(index).inputs[0];
  ASSIGN_OR_RETURN(ReluCuda * relu, b.Own(index, ReluCuda::Create(b.handles(), b.shape(x))));
  return lowering::UnaryForward(b, index, relu);
}

absl::Status Backward(CudaPlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(ReluCuda * relu, b.kernel<ReluCuda>(step.node));
  const ValueId y = b.node(step.node).outputs[0], dy = step.output_grad, dx = step.input_grads[0];
  if (dx == kNoValue) return absl::OkStatus();
  b.Add(b.node(step.node).name + " backward", true, {y, dy}, {dx}, [=](CudaPlan& p) {
    return relu->Backward(p.ptr<float>(y), p.ptr<float>(dy), p.ptr<float>(dx));
  });
  return absl::OkStatus();
}

}  // namespace

OpLowering<CudaPlanBuilder> ReluCudaLowering() { return {&Forward, &Backward}; }

}  // namespace ald::cuda
