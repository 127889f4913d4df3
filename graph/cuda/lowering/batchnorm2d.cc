// batchnorm2d on cuDNN. The graph's saved variance slot holds cuDNN's inverse standard deviation
// (same [C] shape); only this node's backward reads it.
#include "graph/cuda/lowering/shared.h"
#include "ops/cuda/batchnorm2d.h"

namespace ald::cuda {
namespace {

absl::Status Forward(CudaPlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const std::vector<ValueId>& in = node.inputs;
  ASSIGN_OR_RETURN(BatchNorm2dCuda * bn,
                   b.Own(index, BatchNorm2dCuda::Create(b.handles(), b.shape(in[0]),
                                                        std::get<BatchNorm2dAttrs>(node.attrs))));
  b.set_kernel(index, bn);
  const ValueId x = in[0], gamma = in[1], beta = in[2], rmean = in[3], rvar = in[4];
  const ValueId y = node.outputs[0], mean = node.outputs[1], inv_std = node.outputs[2];
  const std::string name = node.name + " forward";
  if (b.training()) {
    b.Add(name, false, {x, gamma, beta}, {y, mean, inv_std}, [=](CudaPlan& p) {
      return bn->ForwardTraining(p.ptr<float>(x), p.ptr<float>(gamma), p.ptr<float>(beta),
                                 p.ptr<float>(y), p.ptr<float>(mean), p.ptr<float>(inv_std),
                                 p.ptr<float>(rmean), p.ptr<float>(rvar));
    });
  } else {
    b.Add(name, false, {x, gamma, beta}, {y}, [=](CudaPlan& p) {
      return bn->ForwardInference(p.ptr<float>(x), p.ptr<float>(gamma), p.ptr<float>(beta),
                                  p.ptr<float>(rmean), p.ptr<float>(rvar), p.ptr<float>(y));
    });
  }
  return absl::OkStatus();
}

absl::Status Backward(CudaPlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(BatchNorm2dCuda * bn, b.kernel<BatchNorm2dCuda>(step.node));
  const Node& node = b.node(step.node);
  const std::vector<ValueId>& grads = step.input_grads;
  const ValueId gradient =
      bn->attrs().fuse_relu ? lowering::FusedReluGradient(b, step, bn) : step.output_grad;
  const ValueId x = node.inputs[0], gamma = node.inputs[1];
  const ValueId mean = node.outputs[1], inv_std = node.outputs[2], dx = grads[0];
  // cuDNN always writes dx: give it a slot when nothing needs it (the first layer's input).
  const ValueId data_grad =
      dx != kNoValue ? dx
                     : b.NewValue(node.name + "/unused_input_grad", b.shape(x), DType::kF32,
                                  ValueRole::kGradient);
  const ValueId dgamma = grads[1], dbeta = grads[2];
  b.Add(node.name + " backward", true, {x, gamma, mean, inv_std, gradient},
        {data_grad, dgamma, dbeta}, [=](CudaPlan& p) {
          return bn->Backward(p.ptr<float>(x), p.ptr<float>(gamma), p.ptr<float>(mean),
                              p.ptr<float>(inv_std), p.ptr<float>(gradient),
                              p.ptr<float>(data_grad), p.ptr<float>(dgamma), p.ptr<float>(dbeta));
        });
  return absl::OkStatus();
}

}  // namespace

OpLowering<CudaPlanBuilder> BatchNorm2dCudaLowering() { return {&Forward, &Backward}; }

}  // namespace ald::cuda
