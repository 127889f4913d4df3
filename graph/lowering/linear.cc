// linear on oneDNN (inner product): forward, then backward weights before data.
#include "graph/lowering/shared.h"
#include "ops/cpu/linear.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const std::vector<ValueId>& in = node.inputs;
  const ValueId y = node.outputs[0];
  ASSIGN_OR_RETURN(cpu::LinearCpu * linear,
                   b.Own(index, cpu::LinearCpu::Create(b.shape(in[0]), b.shape(in[1]),
                                                       std::get<LinearAttrs>(node.attrs))));
  b.set_kernel(index, linear);
  const ValueId x = in[0], w = in[1], bias = in.size() > 2 ? in[2] : kNoValue;
  b.Add(node.name + " forward", false, Present({x, w, bias}), {y}, [=](Plan& p) {
    return linear->Forward(p.tensor(x), p.tensor(w), Bound(p, bias), p.tensor(y));
  });
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
