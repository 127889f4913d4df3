// accuracy on the CPU: counts correct predictions into the plan's int32 metric; no gradient.
#include "graph/lowering/shared.h"
#include "ops/cpu/accuracy.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const ValueId logits = node.inputs[0], labels = node.inputs[1], y = node.outputs[0];
  ASSIGN_OR_RETURN(cpu::AccuracyCpu * accuracy,
                   b.Own(index, cpu::AccuracyCpu::Create(b.shape(logits))));
  b.Add(node.name + " forward", false, {logits, labels}, {y}, [=](Plan& p) -> absl::Status {
    ASSIGN_OR_RETURN(AccuracyResult result, accuracy->Forward(p.tensor(logits), p.tensor(labels)));
    p.tensor(y).data<int32_t>()[0] = static_cast<int32_t>(result.correct);
    return absl::OkStatus();
  });
  return absl::OkStatus();
}

}  // namespace

OpLowering<PlanBuilder> AccuracyCpuLowering() { return {&Forward, &NoBackward<PlanBuilder>}; }

}  // namespace ald
