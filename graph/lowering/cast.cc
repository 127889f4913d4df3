// cast (f32 <-> bf16, inserted by graph/precision_pass.h) on oneDNN's reorder: a unary op whose
// backward casts the gradient back.
#include "graph/lowering/shared.h"
#include "ops/cpu/cast.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const ValueId x = node.inputs[0], y = node.outputs[0];
  ASSIGN_OR_RETURN(cpu::CastCpu * cast,
                   b.Own(index, cpu::CastCpu::Create(b.shape(x), b.Layout(x), b.Layout(y),
                                                     b.value(x).dtype, b.value(y).dtype)));
  return cpu_lowering::UnaryForward(b, index, cast);
}

}  // namespace

OpLowering<PlanBuilder> CastCpuLowering() {
  return {&Forward, &cpu_lowering::UnaryBackward<cpu::CastCpu>};
}

}  // namespace ald
