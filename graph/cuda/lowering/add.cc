// add on CUDA. Without a fused ReLU both inputs' gradient is dy itself (autodiff aliases them),
// so only a fused add has a backward launch.
#include "graph/cuda/lowering/shared.h"
#include "ops/cuda/add.h"

namespace ald::cuda {
namespace {

absl::Status Forward(CudaPlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const ValueId a = node.inputs[0], c = node.inputs[1], y = node.outputs[0];
  ASSIGN_OR_RETURN(AddCuda * add, b.Own(index, AddCuda::Create(b.handles(), b.shape(a), b.shape(c),
                                                               std::get<AddAttrs>(node.attrs))));
  b.set_kernel(index, add);
  // y never shares a's or c's memory: both are live at this launch, so the planner gives y its
  // own slot (AddCuda requires that).
  b.Add(node.name + " forward", false, {a, c}, {y}, [=](CudaPlan& p) {
    return add->Forward(p.ptr<float>(a), p.ptr<float>(c), p.ptr<float>(y));
  });
  return absl::OkStatus();
}

absl::Status Backward(CudaPlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(AddCuda * add, b.kernel<AddCuda>(step.node));
  if (!add->attrs().fuse_relu) return absl::OkStatus();
  const std::vector<ValueId>& grads = step.input_grads;
  const ValueId shared = grads[0] != kNoValue ? grads[0] : grads[1];
  if (shared == kNoValue) return absl::OkStatus();
  const ValueId y = b.node(step.node).outputs[0], dy = step.output_grad;
  b.Add(b.node(step.node).name + " backward", true, {y, dy}, {shared}, [=](CudaPlan& p) {
    return add->Backward(p.ptr<float>(y), p.ptr<float>(dy), p.ptr<float>(shared));
  });
  return absl::OkStatus();
}

}  // namespace

OpLowering<CudaPlanBuilder> AddCudaLowering() { return {&Forward, &Backward}; }

}  // namespace ald::cuda
