// accuracy on CUDA: counts correct predictions into the step's results block; no gradient.
#include "graph/cuda/lowering/shared.h"
#include "graph/cuda/step_metrics.h"

namespace ald::cuda {
namespace {

absl::Status Forward(CudaPlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const ValueId logits = node.inputs[0], labels = node.inputs[1];
  ASSIGN_OR_RETURN(AccuracyCountCuda * accuracy,
                   b.Own(index, AccuracyCountCuda::Create(b.handles(), b.shape(logits),
                                                          b.shape(labels))));
  b.set_classes(b.shape(logits)[1]);
  b.Add(node.name + " forward", false, {logits, labels}, {node.outputs[0]}, [=](CudaPlan& p) {
    StepResults* results = p.device_results();
    return accuracy->Count(p.ptr<float>(logits), p.ptr<int32_t>(labels), &results->correct,
                           &results->accuracy_bad_row);
  });
  return absl::OkStatus();
}

}  // namespace

OpLowering<CudaPlanBuilder> AccuracyCudaLowering() {
  return {&Forward, &NoBackward<CudaPlanBuilder>};
}

}  // namespace ald::cuda
