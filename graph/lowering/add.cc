// add on oneDNN. Without a fused ReLU both inputs' gradient is dy itself (autodiff aliases
// them), so only a fused add has a backward launch.
#include "graph/lowering/shared.h"
#include "ops/cpu/add.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const ValueId a = node.inputs[0], c = node.inputs[1], y = node.outputs[0];
  ASSIGN_OR_RETURN(cpu::AddCpu * add,
                   b.Own(index, cpu::AddCpu::Create(b.shape(a), std::get<AddAttrs>(node.attrs),
                                                    b.Layout(a), b.value(a).dtype)));
  b.set_kernel(index, add);
  b.Add(node.name + " forward", false, {a, c}, {y},
        [=](Plan& p) { return add->Forward(p.tensor(a), p.tensor(c), p.tensor(y)); });
  return absl::OkStatus();
}

absl::Status Backward(PlanBuilder& b, const BackwardStep& step) {
  const Node& node = b.node(step.node);
  ASSIGN_OR_RETURN(cpu::AddCpu * add, b.kernel<cpu::AddCpu>(step.node));
  if (!std::get<AddAttrs>(node.attrs).fuse_relu) return absl::OkStatus();  // dy passes through
  const std::vector<ValueId>& grads = step.input_grads;
  const ValueId y = node.outputs[0], dy = step.output_grad;
  const ValueId dx = grads[0] != kNoValue ? grads[0] : grads[1];
  b.Add(node.name + " backward", true, {y, dy}, {dx},
        [=](Plan& p) { return add->Backward(p.tensor(y), p.tensor(dy), p.tensor(dx)); });
  return absl::OkStatus();
}

}  // namespace

OpLowering<PlanBuilder> AddCpuLowering() { return {&Forward, &Backward}; }

}  // namespace ald
