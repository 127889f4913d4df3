// conv2d on cuDNN: every pass uses the plan's one shared convolution workspace.
#include "graph/cuda/lowering/shared.h"
#include "ops/cuda/conv2d.h"

namespace ald::cuda {
namespace {

absl::Status Forward(CudaPlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const std::vector<ValueId>& in = node.inputs;
  ASSIGN_OR_RETURN(Conv2dCuda * conv,
                   b.Own(index, Conv2dCuda::Create(b.handles(), b.shape(in[0]), b.shape(in[1]),
                                                   std::get<Conv2dAttrs>(node.attrs))));
  b.set_kernel(index, conv);
  b.NeedWorkspace(conv->workspace_bytes());
  const ValueId x = in[0], w = in[1], bias = in.size() > 2 ? in[2] : kNoValue;
  const ValueId y = node.outputs[0], ws = b.workspace();
  b.Add(node.name + " forward", false, Present({x, w, bias}), {y, ws}, [=](CudaPlan& p) {
    return conv->Forward(p.ptr<float>(x), p.ptr<float>(w), p.ptr<float>(bias), p.ptr<float>(y),
                         p.workspace(), p.workspace_bytes());
  });
  return absl::OkStatus();
}

absl::Status Backward(CudaPlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(Conv2dCuda * conv, b.kernel<Conv2dCuda>(step.node));
  const Node& node = b.node(step.node);
  const std::vector<ValueId>& in = node.inputs;
  const std::vector<ValueId>& grads = step.input_grads;
  const ValueId gradient =
      conv->attrs().fuse_relu ? lowering::FusedReluGradient(b, step, conv) : step.output_grad;
  // Weights first, so the bucket is ready while the data gradient runs.
  const ValueId x = in[0], w = in[1], dx = grads[0], dw = grads[1];
  const ValueId db = in.size() > 2 ? grads[2] : kNoValue, ws = b.workspace();
  b.Add(node.name + " backward-weights", true, {x, gradient}, Present({dw, db, ws}),
        [=](CudaPlan& p) {
          return conv->BackwardWeights(p.ptr<float>(x), p.ptr<float>(gradient), p.ptr<float>(dw),
                                       p.ptr<float>(db), p.workspace(), p.workspace_bytes());
        });
  if (dx != kNoValue) {
    b.Add(node.name + " backward-data", true, {gradient, w}, {dx, ws}, [=](CudaPlan& p) {
      return conv->BackwardData(p.ptr<float>(gradient), p.ptr<float>(w), p.ptr<float>(dx),
                                p.workspace(), p.workspace_bytes());
    });
  }
  return absl::OkStatus();
}

}  // namespace

OpLowering<CudaPlanBuilder> Conv2dCudaLowering() { return {&Forward, &Backward}; }

}  // namespace ald::cuda
