// avgpool2d on oneDNN: a unary op (the backward needs only dy).
#include "graph/lowering/shared.h"
#include "ops/cpu/avgpool2d.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const ValueId x = node.inputs[0];
  ASSIGN_OR_RETURN(cpu::AvgPool2dCpu * pool,
                   b.Own(index, cpu::AvgPool2dCpu::Create(b.shape(x),
                                                          std::get<AvgPool2dAttrs>(node.attrs),
                                                          b.Layout(x), b.value(x).dtype)));
  return cpu_lowering::UnaryForward(b, index, pool);
}

}  // namespace

OpLowering<PlanBuilder> AvgPool2dCpuLowering() {
  return {&Forward, &cpu_lowering::UnaryBackward<cpu::AvgPool2dCpu>};
}

}  // namespace ald
