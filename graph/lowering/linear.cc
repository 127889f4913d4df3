// linear on oneDNN (inner product): forward, then backward weights before data.
#include "graph/lowering/shared.h"
#include "ops/cpu/linear.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const std::vector<ValueId>& in = node.inputs;
  ASSIGN_OR_RETURN(cpu::LinearCpu * linear,
                   b.Own(index, cpu::LinearCpu::Create(b.shape(in[0]), b.shape(in[1]),
                                                       std::get<LinearAttrs>(node.attrs),
                                                       b.value(in[0]).dtype)));
  cpu_lowering::WeightedForward(b, index, linear);
  return absl::OkStatus();
}

absl::Status Backward(PlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(cpu::LinearCpu * linear, b.kernel<cpu::LinearCpu>(step.node));
  cpu_lowering::WeightedBackward(b, step, linear, step.output_grad);
  return absl::OkStatus();
}

}  // namespace

OpLowering<PlanBuilder> LinearCpuLowering() { return {&Forward, &Backward}; }

}  // namespace ald
