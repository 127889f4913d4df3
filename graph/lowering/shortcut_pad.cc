// shortcut_pad (ResNet option A shortcut) on oneDNN: a unary op (the backward needs only dy).
#include "graph/lowering/shared.h"
#include "ops/cpu/shortcut_pad.h"

namespace ald {
namespace {

absl::Status Forward(PlanBuilder& b, int index) {
  const Node& node = b.node(index);
  const ValueId x = node.inputs[0];
  ASSIGN_OR_RETURN(
      cpu::ShortcutPadCpu * pad,
      b.Own(index, cpu::ShortcutPadCpu::Create(b.shape(x), std::get<ShortcutPadAttrs>(node.attrs),
                                               b.Layout(x), b.value(x).dtype)));
  return cpu_lowering::UnaryForward(b, index, pad);
}

}  // namespace

OpLowering<PlanBuilder> ShortcutPadCpuLowering() {
  return {&Forward, &cpu_lowering::UnaryBackward<cpu::ShortcutPadCpu>};
}

}  // namespace ald
