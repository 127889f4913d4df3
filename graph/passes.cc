#include "graph/passes.h"

#include <algorithm>

namespace ald {

std::vector<std::vector<int>> ConsumersOf(const ModelGraph& graph) {
  std::vector<std::vector<int>> consumers(graph.values.size());
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    for (ValueId input : graph.nodes[n].inputs) consumers[input].push_back(static_cast<int>(n));
  }
  return consumers;
}

int EliminateDeadNodes(ModelGraph& graph) {
  std::vector<bool> live(graph.values.size(), false);
  for (ValueId root : {graph.loss, graph.correct}) {
    if (root != kNoValue) live[root] = true;
  }
  std::vector<bool> keep(graph.nodes.size(), false);
  for (int n = static_cast<int>(graph.nodes.size()) - 1; n >= 0; --n) {
    const Node& node = graph.nodes[n];
    keep[n] = std::any_of(node.outputs.begin(), node.outputs.end(),
                          [&](ValueId out) { return live[out]; });
    if (keep[n]) {
      for (ValueId input : node.inputs) live[input] = true;
    }
  }
  std::vector<Node> kept;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (keep[n]) kept.push_back(std::move(graph.nodes[n]));
  }
  const int removed = static_cast<int>(graph.nodes.size() - kept.size());
  graph.nodes = std::move(kept);
  return removed;
}

namespace {

// The fuse_relu flag of an op that can absorb a following ReLU, or null.
bool* FusibleReluFlag(Node& node) {
  switch (node.type) {
    case OpType::kConv2d: return &std::get<Conv2dAttrs>(node.attrs).fuse_relu;
    case OpType::kBatchNorm2d: return &std::get<BatchNorm2dAttrs>(node.attrs).fuse_relu;
    case OpType::kAdd: return &std::get<AddAttrs>(node.attrs).fuse_relu;
    default: return nullptr;
  }
}

}  // namespace

int FuseRelu(ModelGraph& graph) {
  const std::vector<std::vector<int>> consumers = ConsumersOf(graph);
  std::vector<int> producer(graph.values.size(), -1);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    for (ValueId out : graph.nodes[n].outputs) producer[out] = static_cast<int>(n);
  }
  std::vector<bool> removed(graph.nodes.size(), false);
  std::vector<ValueId> replacement(graph.values.size());
  for (size_t v = 0; v < replacement.size(); ++v) replacement[v] = static_cast<ValueId>(v);
  int fused = 0;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    Node& relu = graph.nodes[n];
    if (!relu.IsElementwise("relu")) continue;
    const ValueId x = relu.inputs[0];
    if (producer[x] < 0 || consumers[x].size() != 1 || x == graph.logits) continue;
    Node& op = graph.nodes[producer[x]];
    bool* flag = FusibleReluFlag(op);
    if (flag == nullptr || *flag || op.outputs[0] != x) continue;
    *flag = true;
    // The op's output now holds relu(op(...)); the ReLU's output value is retired and its
    // readers read the op's output instead.
    replacement[relu.outputs[0]] = x;
    graph.values[x].name = relu.outputs[0] == graph.logits ? graph.values[x].name
                                                             : graph.values[relu.outputs[0]].name;
    if (graph.logits == relu.outputs[0]) graph.logits = x;
    removed[n] = true;
    ++fused;
  }
  std::vector<Node> kept;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (removed[n]) continue;
    for (ValueId& input : graph.nodes[n].inputs) input = replacement[input];
    kept.push_back(std::move(graph.nodes[n]));
  }
  graph.nodes = std::move(kept);
  return fused;
}

}  // namespace ald
