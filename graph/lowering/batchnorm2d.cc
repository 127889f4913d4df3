// batchnorm2d on oneDNN: training forward (batch statistics saved for the backward, running
// statistics updated) or inference forward (running statistics read), and one backward launch.
#include "graph/lowering/shared.h"
#include "ops/cpu/batchnorm2d.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const std::vector<ValueId>& in = node.inputs;
  ASSIGN_OR_RETURN(cpu::BatchNorm2dCpu * bn,
                   b.Own(index, cpu::BatchNorm2dCpu::Create(
                                    b.shape(in[0]), std::get<BatchNorm2dAttrs>(node.attrs),
                                    b.Layout(in[0]), b.value(in[0]).dtype)));
  b.set_kernel(index, bn);
  const ValueId x = in[0], gamma = in[1], beta = in[2], rmean = in[3], rvar = in[4];
  const ValueId y = node.outputs[0], mean = node.outputs[1], var = node.outputs[2];
  const std::string name = node.name + " forward";
  if (b.training()) {
    b.Add(name, false, {x, gamma, beta}, {y, mean, var}, [=](Plan& p) {
      return bn->ForwardTraining(p.tensor(x), p.tensor(gamma), p.tensor(beta), p.tensor(y),
                                 p.tensor(mean), p.tensor(var), p.tensor(rmean), p.tensor(rvar));
    });
  } else {
    b.Add(name, false, {x, gamma, beta}, {y}, [=](Plan& p) {
      return bn->ForwardInference(p.tensor(x), p.tensor(gamma), p.tensor(beta), p.tensor(rmean),
                                  p.tensor(rvar), p.tensor(y));
    });
  }
  return absl::OkStatus();
}

absl::Status Backward(PlanBuilder& b, const BackwardStep& step) {
  const Node& node = b.node(step.node);
  ASSIGN_OR_RETURN(cpu::BatchNorm2dCpu * bn, b.kernel<cpu::BatchNorm2dCpu>(step.node));
  const ValueId x = node.inputs[0], gamma = node.inputs[1];
  const ValueId mean = node.outputs[1], var = node.outputs[2], dy = step.output_grad;
  ValueId dx = step.input_grads[0];
  // oneDNN always writes dx: give it a slot when nothing needs it (the first layer's input).
  if (dx == kNoValue) {
    dx = b.NewValue(node.name + "/unused_input_grad", b.shape(x), b.value(x).dtype,
                    ValueRole::kGradient, x);
  }
  const ValueId dgamma = step.input_grads[1], dbeta = step.input_grads[2];
  b.Add(node.name + " backward", true, {x, gamma, mean, var, dy}, {dx, dgamma, dbeta},
        [=](Plan& p) {
          return bn->Backward(p.tensor(x), p.tensor(gamma), p.tensor(mean), p.tensor(var),
                              p.tensor(dy), p.tensor(dx), p.tensor(dgamma), p.tensor(dbeta));
        });
  return absl::OkStatus();
}

}  // namespace

OpLowering<PlanBuilder> BatchNorm2dCpuLowering() { return {&Forward, &Backward}; }

}  // namespace ald
