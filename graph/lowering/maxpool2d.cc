// maxpool2d on oneDNN: in training the forward keeps the winners' workspace for the backward.
#include "graph/lowering/shared.h"
#include "ops/cpu/maxpool2d.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const ValueId x = node.inputs[0], y = node.outputs[0];
  ASSIGN_OR_RETURN(cpu::MaxPool2dCpu * pool,
                   b.Own(index, cpu::MaxPool2dCpu::Create(
                                    b.shape(x), std::get<Pool2dWindow>(node.attrs), b.Layout(x),
                                    b.value(x).dtype)));
  b.set_kernel(index, pool);
  const std::string name = node.name + " forward";
  if (b.training()) {
    const ValueId workspace = b.NewValue(node.name + "/workspace", pool->workspace_shape(),
                                         DType::kI32, ValueRole::kSaved);
    b.set_saved(index, workspace);
    b.Add(name, false, {x}, {y, workspace}, [=](Plan& p) {
      return pool->Forward(p.tensor(x), p.tensor(y), p.tensor(workspace));
    });
  } else {
    b.Add(name, false, {x}, {y},
          [=](Plan& p) { return pool->ForwardInference(p.tensor(x), p.tensor(y)); });
  }
  return absl::OkStatus();
}

absl::Status Backward(PlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(cpu::MaxPool2dCpu * pool, b.kernel<cpu::MaxPool2dCpu>(step.node));
  const ValueId dy = step.output_grad, dx = step.input_grads[0];
  const ValueId workspace = b.saved(step.node);
  b.Add(b.node(step.node).name + " backward", true, {dy, workspace}, {dx}, [=](Plan& p) {
    return pool->Backward(p.tensor(dy), p.tensor(workspace), p.tensor(dx));
  });
  return absl::OkStatus();
}

}  // namespace

OpLowering<PlanBuilder> MaxPool2dCpuLowering() { return {&Forward, &Backward}; }

}  // namespace ald
