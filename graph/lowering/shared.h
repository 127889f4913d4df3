// Lowerings that several ops share on oneDNN: pieces for graph/lowering/<op>.cc.
#pragma once

#include <string>

#include "graph/lowering.h"

namespace ald::cpu_lowering {

// Convolution and linear forward. With bf16 activations a launch first casts the f32 weights
// from the store into a bf16 copy in the primitive's layout (once per step: backward-data reads
// it too, and after the bucket's combine: it is the first launch to read the weights).
template <typename Layer>
void WeightedForward(PlanBuilder& b, int index, Layer* layer) {
  const Node& node = b.node(index);
  const std::vector<ValueId>& in = node.inputs;
  b.set_kernel(index, layer);
  const ValueId x = in[0], w = in[1], bias = in.size() > 2 ? in[2] : kNoValue;
  const ValueId y = node.outputs[0];
  if (b.value(x).dtype == DType::kF32) {
    b.Add(node.name + " forward", false, Present({x, w, bias}), {y}, [=](Plan& p) {
      return layer->Forward(p.tensor(x), p.tensor(w), Bound(p, bias), p.tensor(y));
    });
    return;
  }
  const ValueId prepared =
      b.NewValue(node.name + "/weight@" + DTypeName(layer->passes().prepared_weights_dtype()),
                 layer->passes().prepared_weights_shape(),
                 layer->passes().prepared_weights_dtype(), ValueRole::kSaved);
  b.set_saved(index, prepared);
  b.Add(node.name + " cast-weights", false, {w}, {prepared}, [=](Plan& p) {
    return layer->passes().PrepareWeights(p.tensor(w), p.tensor(prepared));
  });
  b.Add(node.name + " forward", false, Present({x, prepared, bias}), {y}, [=](Plan& p) {
    return layer->passes().ForwardPrepared(p.tensor(x), p.tensor(prepared), Bound(p, bias),
                                           p.tensor(y));
  });
}

// Convolution and linear: weights first, so the bucket is ready while the data gradient runs.
// `gradient` is dy, or dy through a fused ReLU. Backward-data reads the forward's bf16 weights
// where it made them, so with bf16 the bucket is ready once its weight gradients are.
template <typename Layer>
void WeightedBackward(PlanBuilder& b, const BackwardStep& step, Layer* layer, ValueId gradient) {
  const Node& node = b.node(step.node);
  const std::vector<ValueId>& in = node.inputs;
  const std::vector<ValueId>& grads = step.input_grads;
  const std::string prefix = node.name + " ";
  const ValueId x = in[0], w = in[1], prepared = b.saved(step.node);
  const ValueId dw = grads[1], db = in.size() > 2 ? grads[2] : kNoValue, dx = grads[0];
  b.Add(prefix + "backward-weights", true, {x, gradient}, Present({dw, db}), [=](Plan& p) {
    return layer->BackwardWeights(p.tensor(x), p.tensor(gradient), p.tensor(dw), Bound(p, db));
  });
  if (dx == kNoValue) return;
  if (prepared == kNoValue) {
    b.Add(prefix + "backward-data", true, {gradient, w}, {dx}, [=](Plan& p) {
      return layer->BackwardData(p.tensor(gradient), p.tensor(w), p.tensor(dx));
    });
    return;
  }
  b.Add(prefix + "backward-data", true, {gradient, prepared}, {dx}, [=](Plan& p) {
    return layer->passes().BackwardDataPrepared(p.tensor(gradient), p.tensor(prepared),
                                                p.tensor(dx));
  });
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
