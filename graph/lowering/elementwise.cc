// Every element-wise function on oneDNN: the function comes from the registry by the node's
// name for it, so a new function needs nothing here. The backward reads x or y, as the function
// says (y lets relu's forward run in place).
#include "absl/strings/str_cat.h"
#include "graph/lowering/shared.h"
#include "ops/cpu/eltwise.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const std::string& name = std::get<ElementwiseAttrs>(node.attrs).function;
  const eltwise::Function* function = eltwise::Find(name);
  if (function == nullptr) {
    return absl::NotFoundError(absl::StrCat(node.name, ": no element-wise function ", name));
  }
  const ValueId x = node.inputs[0];
  ASSIGN_OR_RETURN(cpu::EltwiseCpu * kernel,
                   b.Own(index, cpu::EltwiseCpu::Create(*function, b.shape(x), b.Layout(x),
                                                        b.value(x).dtype)));
  return cpu_lowering::UnaryForward(b, index, kernel);
}

absl::Status Backward(PlanBuilder& b, const BackwardStep& step) {
  ASSIGN_OR_RETURN(cpu::EltwiseCpu * kernel, b.kernel<cpu::EltwiseCpu>(step.node));
  const Node& node = b.node(step.node);
  const ValueId saved = kernel->function().saved == eltwise::Saved::kOutput ? node.outputs[0]
                                                                            : node.inputs[0];
  const ValueId dy = step.output_grad, dx = step.input_grads[0];
  if (dx == kNoValue) return absl::OkStatus();
  b.Add(node.name + " backward", true, {saved, dy}, {dx}, [=](Plan& p) {
    return kernel->Backward(p.tensor(saved), p.tensor(dy), p.tensor(dx));
  });
  return absl::OkStatus();
}

}  // namespace

OpLowering<PlanBuilder> ElementwiseCpuLowering() { return {&Forward, &Backward}; }

}  // namespace ald
