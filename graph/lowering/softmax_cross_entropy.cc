// softmax_cross_entropy on oneDNN: the forward keeps the log-probabilities for the backward.
#include "graph/lowering/shared.h"
#include "ops/cpu/softmax_cross_entropy.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const ValueId logits = node.inputs[0], labels = node.inputs[1], y = node.outputs[0];
  ASSIGN_OR_RETURN(cpu::SoftmaxCrossEntropyCpu * loss,
                   b.Own(index, cpu::SoftmaxCrossEntropyCpu::Create(b.shape(logits))));
  b.set_kernel(index, loss);
  const ValueId log_probs =
      b.NewValue(node.name + "/log_probs", b.shape(logits), DType::kF32, ValueRole::kSaved);
  b.set_saved(index, log_probs);
  b.Add(node.name + " forward", false, {logits, labels}, {log_probs, y}, [=](Plan& p) {
    return loss->Forward(p.tensor(logits), p.tensor(labels), p.tensor(log_probs), p.tensor(y));
  });
  return absl::OkStatus();
}

absl::Status Backward(PlanBuilder& b, const BackwardStep& step) {
  const Node& node = b.node(step.node);
  ASSIGN_OR_RETURN(cpu::SoftmaxCrossEntropyCpu * loss,
                   b.kernel<cpu::SoftmaxCrossEntropyCpu>(step.node));
  const ValueId log_probs = b.saved(step.node), labels = node.inputs[1];
  const ValueId dy = step.output_grad, dlogits = step.input_grads[0];
  b.Add(node.name + " backward", true, {log_probs, labels, dy}, {dlogits}, [=](Plan& p) {
    return loss->Backward(p.tensor(log_probs), p.tensor(labels), p.tensor(dy), p.tensor(dlogits));
  });
  return absl::OkStatus();
}

}  // namespace

OpLowering<PlanBuilder> SoftmaxCrossEntropyCpuLowering() { return {&Forward, &Backward}; }

}  // namespace ald
