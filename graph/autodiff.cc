#include "graph/autodiff.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ald {
namespace {

// A gradient has its primal's element type (bf16 activations have bf16 gradients).
ValueId NewValue(ModelGraph& graph, const std::string& name, const Shape& shape, DType dtype,
                 ValueRole role) {
  graph.values.push_back({name, shape, dtype, role});
  graph.inits.emplace_back();
  return static_cast<ValueId>(graph.values.size() - 1);
}

// Which inputs of a node can carry a gradient (labels and running statistics cannot).
bool Differentiable(const Node& node, size_t input) {
  switch (node.type) {
    case OpType::kBatchNorm2d: return input < 3;  // x, gamma, beta; not the running stats
    case OpType::kSoftmaxCrossEntropy: return input == 0;
    case OpType::kAccuracy: return false;
    default: return true;
  }
}

TrainingGraph Start(ModelGraph graph) {
  TrainingGraph training;
  training.graph = std::move(graph);
  for (size_t n = 0; n < training.graph.nodes.size(); ++n) {
    training.schedule.push_back({ScheduleEntry::Kind::kForward, static_cast<int>(n)});
  }
  return training;
}

void ExtendPerValueTables(TrainingGraph& training) {
  const size_t count = training.graph.values.size();
  training.grad.resize(count, kNoValue);
  const size_t old = training.alias_of.size();
  training.alias_of.resize(count);
  training.primal_of.resize(count);
  for (size_t v = old; v < count; ++v) {
    training.alias_of[v] = static_cast<ValueId>(v);
    training.primal_of[v] = static_cast<ValueId>(v);
  }
}

// Records that `gradient` (a value just added) is a gradient of `primal`.
void SetPrimal(TrainingGraph& training, ValueId gradient, ValueId primal) {
  ExtendPerValueTables(training);
  training.primal_of[gradient] = primal;
}

}  // namespace

ValueId TrainingGraph::StorageOf(ValueId value) const {
  while (alias_of[value] != value) value = alias_of[value];
  return value;
}

TrainingGraph InferenceGraph(ModelGraph graph) {
  TrainingGraph inference = Start(std::move(graph));
  ExtendPerValueTables(inference);
  for (const Node& node : inference.graph.nodes) {
    if (node.type == OpType::kFlatten) inference.alias_of[node.outputs[0]] = node.inputs[0];
  }
  return inference;
}

absl::StatusOr<TrainingGraph> BuildTrainingGraph(ModelGraph forward) {
  TrainingGraph training = InferenceGraph(std::move(forward));
  ModelGraph& graph = training.graph;

  // Which values depend on a parameter (only those need gradients).
  std::vector<bool> needs_grad(graph.values.size(), false);
  for (ValueId p : graph.parameters) needs_grad[p] = true;
  for (const Node& node : graph.nodes) {
    bool any = false;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      any |= Differentiable(node, i) && needs_grad[node.inputs[i]];
    }
    if (node.type != OpType::kAccuracy) needs_grad[node.outputs[0]] = any;
  }

  std::vector<std::vector<ValueId>> parts(graph.values.size());
  training.loss_grad = NewValue(graph, graph.value(graph.loss).name + "/grad", Shape{},
                                DType::kF32, ValueRole::kGradient);
  parts[graph.loss].push_back(training.loss_grad);
  SetPrimal(training, training.loss_grad, graph.loss);

  for (int n = static_cast<int>(graph.nodes.size()) - 1; n >= 0; --n) {
    const Node node = graph.nodes[n];  // a copy: NewValue may grow graph.values
    const ValueId out = node.outputs[0];
    if (node.type == OpType::kAccuracy || !needs_grad[out] || parts[out].empty()) continue;

    // The output's gradient is final: all its readers come later in the forward order.
    ValueId out_grad = parts[out].front();
    if (parts[out].size() > 1) {
      out_grad = NewValue(graph, graph.value(out).name + "/grad", graph.value(out).shape,
                          graph.value(out).dtype, ValueRole::kGradient);
      SetPrimal(training, out_grad, out);
      training.sums.push_back({out_grad, parts[out]});
      training.schedule.push_back(
          {ScheduleEntry::Kind::kSum, static_cast<int>(training.sums.size() - 1)});
    }
    ExtendPerValueTables(training);
    training.grad[out] = out_grad;

    BackwardStep step{n, out_grad, std::vector<ValueId>(node.inputs.size(), kNoValue)};
    ValueId shared_input_grad = kNoValue;  // a fused add writes one gradient for both inputs
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const ValueId input = node.inputs[i];
      if (!Differentiable(node, i) || !needs_grad[input]) continue;
      const ValueInfo info = graph.value(input);
      ValueId contribution;
      if (info.role == ValueRole::kParameter) {
        if (!parts[input].empty()) {
          return absl::UnimplementedError(absl::StrCat(
              "autodiff: parameter '", info.name, "' is read by two layers (", node.name,
              " and a later one); shared parameters are not supported"));
        }
        contribution = NewValue(graph, info.name + "/grad", info.shape, info.dtype,
                                ValueRole::kParameterGradient);
      } else if (node.type == OpType::kAdd && !std::get<AddAttrs>(node.attrs).fuse_relu) {
        contribution = out_grad;  // d(a + b)/da = d(a + b)/db = identity: no copy
      } else if (node.type == OpType::kAdd && shared_input_grad != kNoValue) {
        contribution = shared_input_grad;
      } else {
        contribution = NewValue(graph, absl::StrCat(info.name, "/grad@", node.name), info.shape,
                                info.dtype, ValueRole::kGradient);
        if (node.type == OpType::kAdd) shared_input_grad = contribution;
      }
      if (contribution != out_grad) SetPrimal(training, contribution, input);
      if (node.type == OpType::kFlatten) training.alias_of[contribution] = out_grad;
      if (info.role == ValueRole::kParameter) training.grad[input] = contribution;
      step.input_grads[i] = contribution;
      parts[input].push_back(contribution);
    }
    training.backward.push_back(std::move(step));
    training.schedule.push_back(
        {ScheduleEntry::Kind::kBackward, static_cast<int>(training.backward.size() - 1)});
  }
  ExtendPerValueTables(training);
  for (ValueId p : graph.parameters) {
    if (training.grad[p] == kNoValue) {
      return absl::InvalidArgumentError(absl::StrCat(
          "autodiff: parameter '", graph.value(p).name, "' does not affect the loss"));
    }
  }
  return training;
}

}  // namespace ald
