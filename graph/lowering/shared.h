// Lowerings that several ops share on oneDNN: pieces for graph/lowering/<op>.cc.
#pragma once

#include <string>

#include "graph/lowering.h"

namespace ald::cpu_lowering {

// Convolution and linear: weights first, so the bucket is ready while the data gradient runs.
// `gradient` is dy, or dy through a fused ReLU.
template <typename Layer>
void WeightedBackward(PlanBuilder& b, const BackwardStep& step, Layer* layer, ValueId gradient) {
  const Node& node = b.node(step.node);
  const std::vector<ValueId>& in = node.inputs;
  const std::vector<ValueId>& grads = step.input_grads;
  const std::string prefix = node.name + " ";
  const ValueId x = in[0], w = in[1];
  const ValueId dw = grads[1], db = in.size() > 2 ? grads[2] : kNoValue, dx = grads[0];
  b.Add(prefix + "backward-weights", true, {x, gradient}, Present({dw, db}), [=](Plan& p) {
    return layer->BackwardWeights(p.tensor(x), p.tensor(gradient), p.tensor(dw), Bound(p, db));
  });
  if (dx != kNoValue) {
    b.Add(prefix + "backward-data", true, {gradient, w}, {dx}, [=](Plan& p) {
      return layer->BackwardData(p.tensor(gradient), p.tensor(w), p.tensor(dx));
    });
  }
}

// A unary op whose kernel has Backward(dy, dx): nothing to do when x needs no gradient.
template <typename Kernel>
absl::Status UnaryBackward(PlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(Kernel * kernel, b.kernel<Kernel>(step.node));
  const ValueId dy = step.output_grad, dx = step.input_grads[0];
  if (dx == kNoValue) return absl::OkStatus();
  b.Add(b.node(step.node).name + " backward", true, {dy}, {dx},
        [=](Plan& p) { return kernel->Backward(p.tensor(dy), p.tensor(dx)); });
  return absl::OkStatus();
}

// A unary op whose kernel has Forward(x, y).
template <typename Kernel>
absl::Status UnaryForward(PlanBuilder& b, int index, Kernel* kernel) {
  const Node& node = b.node(index);
  b.set_kernel(index, kernel);
  const ValueId x = node.inputs[0], y = node.outputs[0];
  b.Add(node.name + " forward", false, {x}, {y},
        [=](Plan& p) { return kernel->Forward(p.tensor(x), p.tensor(y)); });
  return absl::OkStatus();
}

}  // namespace ald::cpu_lowering
