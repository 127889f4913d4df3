#include "graph/layout_pass.h"

#include <numeric>

namespace ald {
namespace {

// Union-find over value ids.
class Groups {
 public:
  explicit Groups(size_t count) : parent_(count) {
    std::iota(parent_.begin(), parent_.end(), 0);
  }
  size_t Find(size_t v) {
    while (parent_[v] != v) v = parent_[v] = parent_[parent_[v]];
    return v;
  }
  void Join(size_t a, size_t b) { parent_[Find(a)] = Find(b); }

 private:
  std::vector<size_t> parent_;
};

bool KeepsLayout(OpType type) {
  switch (type) {
    case OpType::kBatchNorm2d:
    case OpType::kElementwise:
    case OpType::kAdd:
    case OpType::kMaxPool2d:
    case OpType::kAvgPool2d:
    case OpType::kShortcutPad:
    case OpType::kDropout:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::vector<bool> ChooseBlockedLayouts(const TrainingGraph& training,
                                       cpu::ActivationLayout layout) {
  const bool any_channels = layout == cpu::ActivationLayout::kChannelsLast;
  const int block = cpu::ChannelBlock(layout);
  const ModelGraph& graph = training.graph;
  const size_t count = graph.values.size();
  std::vector<bool> can_block(count, false);
  for (size_t v = 0; v < count; ++v) {
    const ValueInfo& info = graph.values[v];
    // NHWC (any_channels) is for bf16: an f32 value left in a bf16 graph (a one-channel
    // stem's output) stays plain, where oneDNN has f32 kernels for its neighbours.
    can_block[v] = (any_channels ? info.dtype == DType::kBF16
                                 : info.dtype == DType::kF32 || info.dtype == DType::kBF16) &&
                   info.shape.rank() == 4 && info.shape[1] % block == 0 &&
                   static_cast<ValueId>(v) != graph.input &&
                   (info.role == ValueRole::kActivation || info.role == ValueRole::kGradient);
  }
  Groups groups(count);
  for (const Node& node : graph.nodes) {
    if (KeepsLayout(node.type)) {
      groups.Join(node.inputs[0], node.outputs[0]);
      if (node.type == OpType::kAdd) groups.Join(node.inputs[1], node.outputs[0]);
    }
    const Shape& in = graph.value(node.inputs[0]).shape;
    if (node.type == OpType::kFlatten && in.rank() == 4 && in[2] * in[3] != 1) {
      can_block[node.inputs[0]] = false;  // features are c-major: only plain flattens as a view
    }
  }
  // A gradient shares its primal's group.
  for (size_t v = 0; v < count; ++v) {
    if (training.primal_of[v] != static_cast<ValueId>(v)) groups.Join(v, training.primal_of[v]);
  }
  std::vector<bool> group_ok(count, true);
  for (size_t v = 0; v < count; ++v) {
    if (!can_block[v]) group_ok[groups.Find(v)] = false;
  }
  std::vector<bool> blocked(count);
  for (size_t v = 0; v < count; ++v) blocked[v] = group_ok[groups.Find(v)];
  return blocked;
}

}  // namespace ald
