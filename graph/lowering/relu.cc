// relu on oneDNN; the backward reads the forward output, so the input may be reused.
#include "graph/lowering/shared.h"
#include "ops/cpu/relu.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const ValueId x = b.node(index).inputs[0];
  ASSIGN_OR_RETURN(cpu::ReluCpu * relu,
                   b.Own(index, cpu::ReluCpu::Create(b.shape(x), b.Layout(x))));
  return cpu_lowering::UnaryForward(b, index, relu);
}

absl::Status Backward(PlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(cpu::ReluCpu * relu, b.kernel<cpu::ReluCpu>(step.node));
  const ValueId y = b.node(step.node).outputs[0], dy = step.output_grad, dx = step.input_grads[0];
  b.Add(b.node(step.node).name + " backward", true, {y, dy}, {dx},
        [=](Plan& p) { return relu->Backward(p.tensor(y), p.tensor(dy), p.tensor(dx)); });
  return absl::OkStatus();
}

}  // namespace

OpLowering<PlanBuilder> ReluCpuLowering() { return {&Forward, &Backward}; }

}  // namespace ald
