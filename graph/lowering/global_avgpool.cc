// global_avgpool on oneDNN: a unary op (the backward needs only dy).
#include "graph/lowering/shared.h"
#include "ops/cpu/global_avgpool.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const ValueId x = b.node(index).inputs[0];
  ASSIGN_OR_RETURN(cpu::GlobalAvgPoolCpu * pool,
                   b.Own(index, cpu::GlobalAvgPoolCpu::Create(b.shape(x), b.Layout(x),
                                                              b.value(x).dtype)));
  return cpu_lowering::UnaryForward(b, index, pool);
}

}  // namespace

OpLowering<PlanBuilder> GlobalAvgPoolCpuLowering() {
  return {&Forward, &cpu_lowering::UnaryBackward<cpu::GlobalAvgPoolCpu>};
}

}  // namespace ald
