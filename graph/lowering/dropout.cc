// dropout on oneDNN: the mask is regenerated from the step's dropout key in the backward, so
// nothing is saved between the passes.
#include "graph/lowering/shared.h"
#include "ops/cpu/dropout.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const ValueId x = node.inputs[0], y = node.outputs[0];
  ASSIGN_OR_RETURN(cpu::DropoutCpu * dropout,
                   b.Own(index, cpu::DropoutCpu::Create(b.shape(x),
                                                        std::get<DropoutAttrs>(node.attrs))));
  b.set_kernel(index, dropout);
  const bool training = b.training();
  b.Add(node.name + " forward", false, {x}, {y}, [=](Plan& p) {
    return training ? dropout->Forward(p.tensor(x), p.dropout_key(), p.tensor(y))
                    : dropout->ForwardInference(p.tensor(x), p.tensor(y));
  });
  return absl::OkStatus();
}

absl::Status Backward(PlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(cpu::DropoutCpu * dropout, b.kernel<cpu::DropoutCpu>(step.node));
  const ValueId dy = step.output_grad, dx = step.input_grads[0];
  b.Add(b.node(step.node).name + " backward", true, {dy}, {dx}, [=](Plan& p) {
    return dropout->Backward(p.tensor(dy), p.dropout_key(), p.tensor(dx));
  });
  return absl::OkStatus();
}

}  // namespace

OpLowering<PlanBuilder> DropoutCpuLowering() { return {&Forward, &Backward}; }

}  // namespace ald
