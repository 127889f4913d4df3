// conv2d on cuDNN: every pass uses the plan's one shared convolution workspace. A bf16
// convolution (precision_pass.h) reads a bf16 copy of its weights, made by its first launch.
#include "graph/cuda/lowering/shared.h"
#include "ops/cuda/conv2d.h"

namespace ald::cuda {
namespace {

absl::Status Forward(CudaPlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const std::vector<ValueId>& in = node.inputs;
  ASSIGN_OR_RETURN(Conv2dCuda * conv,
                   b.Own(index, Conv2dCuda::Create(b.handles(), b.shape(in[0]), b.shape(in[1]),
                                                   std::get<Conv2dAttrs>(node.attrs),
                                                   b.value(in[0]).dtype)));
  b.set_kernel(index, conv);
  b.NeedWorkspace(conv->workspace_bytes());
  const ValueId x = in[0], w = lowering::PrepareWeights(b, index, conv);
  const ValueId bias = in.size() > 2 ? in[2] : kNoValue;
  const ValueId y = node.outputs[0], ws = b.workspace();
  b.Add(node.name + " forward", false, Present({x, w, bias}), {y, ws}, [=](CudaPlan& p) {
    return conv->Forward(p.ptr<const void>(x), p.ptr<const void>(w), p.ptr<const float>(bias),
                         p.ptr<void>(y), p.workspace(), p.workspace_bytes());
  });
  return absl::OkStatus();
}

absl::Status Backward(CudaPlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(Conv2dCuda * conv, b.kernel<Conv2dCuda>(step.node));
  const Node& node = b.node(step.node);
  const std::vector<ValueId>& in = node.inputs;
  const std::vector<ValueId>& grads = step.input_grads;
  const ValueId gradient = conv->attrs().fuse_relu
                               ? lowering::FusedReluGradient<void>(b, step, conv)
                               : step.output_grad;
  // Weights first, so the bucket is ready while the data gradient runs.
  const ValueId x = in[0], w = lowering::WeightsRead(b, step.node), dx = grads[0], dw = grads[1];
  const ValueId db = in.size() > 2 ? grads[2] : kNoValue, ws = b.workspace();
  b.Add(node.name + " backward-weights", true, {x, gradient}, Present({dw, db, ws}),
        [=](CudaPlan& p) {
          return conv->BackwardWeights(p.ptr<const void>(x), p.ptr<const void>(gradient),
                                       p.ptr<float>(dw), p.ptr<float>(db), p.workspace(),
                                       p.workspace_bytes());
        });
  if (dx != kNoValue) {
    b.Add(node.name + " backward-data", true, {gradient, w}, {dx, ws}, [=](CudaPlan& p) {
      return conv->BackwardData(p.ptr<const void>(gradient), p.ptr<const void>(w),
                                p.ptr<void>(dx), p.workspace(), p.workspace_bytes());
    });
  }
  return absl::OkStatus();
}

}  // namespace

OpLowering<CudaPlanBuilder> Conv2dCudaLowering() { return {&Forward, &Backward}; }

}  // namespace ald::cuda
