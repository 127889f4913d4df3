// maxpool2d, avgpool2d and global_avgpool on cuDNN: one kernel class, three ways to create it.
// cuDNN's pooling backward finds max winners again from x and y, so no workspace value (the
// CPU's maxpool keeps one); the backward reads x and y instead.
#include "graph/cuda/lowering/shared.h"
#include "ops/cuda/pooling.h"

namespace ald::cuda {
namespace {

absl::StatusOr<std::unique_ptr<Pool2dCuda>> Create(CudaPlanBuilder& b, const Node& node) {
  const Shape& x = b.shape(node.inputs[0]);
  switch (node.type) {
    case OpType::kMaxPool2d:
      return Pool2dCuda::CreateMax(b.handles(), x, std::get<Pool2dWindow>(node.attrs));
    case OpType::kAvgPool2d:
      return Pool2dCuda::CreateAvg(b.handles(), x, std::get<AvgPool2dAttrs>(node.attrs));
    default: return Pool2dCuda::CreateGlobalAvg(b.handles(), x);
  }
}

absl::Status Forward(CudaPlanBuilder& b, int index) {
  ASSIGN_OR_RETURN(Pool2dCuda * pool, b.Own(index, Create(b, b.node(index))));
  return lowering::UnaryForward(b, index, pool);
}

absl::Status Backward(CudaPlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(Pool2dCuda * pool, b.kernel<Pool2dCuda>(step.node));
  const Node& node = b.node(step.node);
  const ValueId x = node.inputs[0], y = node.outputs[0];
  const ValueId dy = step.output_grad, dx = step.input_grads[0];
  if (dx == kNoValue) return absl::OkStatus();
  b.Add(node.name + " backward", true, {x, y, dy}, {dx}, [=](CudaPlan& p) {
    return pool->Backward(p.ptr<float>(x), p.ptr<float>(y), p.ptr<float>(dy), p.ptr<float>(dx));
  });
  return absl::OkStatus();
}

}  // namespace

// One lowering, registered for each of the three op kinds.
OpLowering<CudaPlanBuilder> PoolingCudaLowering() { return {&Forward, &Backward}; }

}  // namespace ald::cuda
