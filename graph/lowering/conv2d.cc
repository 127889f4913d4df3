// conv2d on oneDNN: forward (bias and ReLU fused as post-ops), and a backward that first undoes
// a fused ReLU into a gradient of its own, then weights, then data.
#include "graph/lowering/shared.h"
#include "ops/cpu/conv2d.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const std::vector<ValueId>& in = node.inputs;
  const ValueId y = node.outputs[0];
  ASSIGN_OR_RETURN(cpu::Conv2dCpu * conv,
                   b.Own(index, cpu::Conv2dCpu::Create(b.shape(in[0]), b.shape(in[1]),
                                                       std::get<Conv2dAttrs>(node.attrs),
                                                       b.Layout(in[0]), b.Layout(y),
                                                       b.value(in[0]).dtype)));
  cpu_lowering::WeightedForward(b, index, conv);
  return absl::OkStatus();
}

absl::Status Backward(PlanBuilder& b, const BackwardStep& step) {
  const Node& node = b.node(step.node);
  ASSIGN_OR_RETURN(cpu::Conv2dCpu * conv, b.kernel<cpu::Conv2dCpu>(step.node));
  const ValueId y = node.outputs[0], dy = step.output_grad;
  ValueId gradient = dy;
  if (conv->attrs().fuse_relu) {
    // A value of its own: dy may be shared by another reader of y, so it is not masked in place.
    gradient = b.NewValue(node.name + "/pre_relu_grad", b.shape(y), b.value(y).dtype,
                          ValueRole::kGradient, y);
    b.Add(node.name + " relu-backward", true, {y, dy}, {gradient}, [=](Plan& p) {
      return conv->FusedReluBackward(p.tensor(y), p.tensor(dy), p.tensor(gradient));
    });
  }
  cpu_lowering::WeightedBackward(b, step, conv, gradient);
  return absl::OkStatus();
}

}  // namespace

OpLowering<PlanBuilder> Conv2dCpuLowering() { return {&Forward, &Backward}; }

}  // namespace ald
