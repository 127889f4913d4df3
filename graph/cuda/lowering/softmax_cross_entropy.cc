// softmax_cross_entropy on CUDA: the forward writes the loss straight into the step's results
// block (read back once, at the end) and keeps the log-probabilities for the backward.
#include "graph/cuda/lowering/shared.h"
#include "graph/cuda/step_metrics.h"
#include "ops/cuda/softmax_cross_entropy.h"

namespace ald::cuda {
namespace {

absl::Status Forward(CudaPlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const ValueId logits = node.inputs[0], labels = node.inputs[1];
  ASSIGN_OR_RETURN(LossForwardCuda * loss,
                   b.Own(index, LossForwardCuda::Create(b.handles(), b.shape(logits),
                                                        b.shape(labels))));
  ASSIGN_OR_RETURN(SoftmaxCrossEntropyCuda * backward,
                   b.Own(index, SoftmaxCrossEntropyCuda::Create(b.handles(), b.shape(logits),
                                                                b.shape(labels))));
  b.set_kernel(index, backward);
  b.set_classes(loss->classes());
  const ValueId log_probs =
      b.NewValue(node.name + "/log_probs", b.shape(logits), DType::kF32, ValueRole::kSaved);
  b.set_saved(index, log_probs);
  b.Add(node.name + " forward", false, {logits, labels}, {log_probs, node.outputs[0]},
        [=](CudaPlan& p) {
          StepResults* results = p.device_results();
          return loss->Forward(p.ptr<float>(logits), p.ptr<int32_t>(labels),
                               p.ptr<float>(log_probs), &results->loss, &results->loss_bad_row);
        });
  return absl::OkStatus();
}

absl::Status Backward(CudaPlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(SoftmaxCrossEntropyCuda * loss,
                   b.kernel<SoftmaxCrossEntropyCuda>(step.node));
  const ValueId dx = step.input_grads[0];
  if (dx == kNoValue) return absl::OkStatus();
  const ValueId log_probs = b.saved(step.node), labels = b.node(step.node).inputs[1];
  // d loss / d loss is 1 (the CPU plan reads it from the loss-gradient value, which it sets to 1
  // every step); a constant here keeps the device free of that one-float buffer.
  b.Add(b.node(step.node).name + " backward", true, {log_probs, labels}, {dx}, [=](CudaPlan& p) {
    return loss->Backward(p.ptr<float>(log_probs), p.ptr<int32_t>(labels), 1.0f,
                          p.ptr<float>(dx));
  });
  return absl::OkStatus();
}

}  // namespace

OpLowering<CudaPlanBuilder> SoftmaxCrossEntropyCudaLowering() { return {&Forward, &Backward}; }

}  // namespace ald::cuda
