// linear on cuBLAS: forward, then backward weights before data. A bf16 layer (precision_pass.h)
// reads a bf16 copy of its weights, made by its first launch.
#include "graph/cuda/lowering/shared.h"
#include "ops/cuda/linear.h"

namespace ald::cuda {
namespace {

absl::Status Forward(CudaPlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const std::vector<ValueId>& in = node.inputs;
  ASSIGN_OR_RETURN(LinearCuda * linear,
                   b.Own(index, LinearCuda::Create(b.handles(), b.shape(in[0]), b.shape(in[1]),
                                                   std::get<LinearAttrs>(node.attrs),
                                                   b.value(in[0]).dtype)));
  b.set_kernel(index, linear);
  const ValueId x = in[0], w = lowering::PrepareWeights(b, index, linear);
  const ValueId bias = in.size() > 2 ? in[2] : kNoValue;
  const ValueId y = node.outputs[0];
  b.Add(node.name + " forward", false, Present({x, w, bias}), {y}, [=](CudaPlan& p) {
    return linear->Forward(p.ptr<const void>(x), p.ptr<const void>(w), p.ptr<const float>(bias),
                           p.ptr<void>(y));
  });
  return absl::OkStatus();
}

absl::Status Backward(CudaPlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(LinearCuda * linear, b.kernel<LinearCuda>(step.node));
  const Node& node = b.node(step.node);
  const std::vector<ValueId>& in = node.inputs;
  const std::vector<ValueId>& grads = step.input_grads;
  const ValueId x = in[0], w = lowering::WeightsRead(b, step.node), dy = step.output_grad;
  const ValueId dx = grads[0], dw = grads[1];
  const ValueId db = in.size() > 2 ? grads[2] : kNoValue;
  b.Add(node.name + " backward-weights", true, {x, dy}, Present({dw, db}), [=](CudaPlan& p) {
    return linear->BackwardWeights(p.ptr<const void>(x), p.ptr<const void>(dy),
                                   p.ptr<float>(dw), p.ptr<float>(db));
  });
  if (dx != kNoValue) {
    b.Add(node.name + " backward-data", true, {dy, w}, {dx}, [=](CudaPlan& p) {
      return linear->BackwardData(p.ptr<const void>(dy), p.ptr<const void>(w), p.ptr<void>(dx));
    });
  }
  return absl::OkStatus();
}

}  // namespace

OpLowering<CudaPlanBuilder> LinearCudaLowering() { return {&Forward, &Backward}; }

}  // namespace ald::cuda
