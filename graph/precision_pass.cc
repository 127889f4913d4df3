#include "graph/precision_pass.h"

#include <map>
#include <utility>
#include <vector>

namespace ald {

bool RunsInBf16(OpType type, Bf16Kernels kernels) {
  if (kernels == Bf16Kernels::kTensorCores) {
    return type == OpType::kConv2d || type == OpType::kLinear;
  }
  // The CPU: every op with a oneDNN bf16 kernel.
  switch (type) {
    case OpType::kConv2d:
    case OpType::kBatchNorm2d:
    case OpType::kElementwise:
    case OpType::kMaxPool2d:
    case OpType::kAvgPool2d:
    case OpType::kGlobalAvgPool:
    case OpType::kLinear:
    case OpType::kAdd:
    case OpType::kFlatten:
    case OpType::kShortcutPad:
      return true;
    // Dropout is hand-written in f32 and in no model; the loss and accuracy read f32 logits.
    case OpType::kDropout:
    case OpType::kSoftmaxCrossEntropy:
    case OpType::kAccuracy:
    case OpType::kCast:
      return false;
  }
  return false;
}

namespace {

bool IsData(const ValueInfo& value) {
  return value.role == ValueRole::kInput || value.role == ValueRole::kActivation;
}

// A convolution of a one-channel image stays f32: oneDNN 2.6 has no bf16 kernel for it (its NHWC
// description is plain NCHW, which the AMX kernels refuse, and the reference kernel took 190 ms
// for 16 Fashion-MNIST images); on the tensor cores its 9-long reductions would gain nothing.
bool NodeRunsInBf16(const ModelGraph& graph, const Node& node, Bf16Kernels kernels) {
  if (node.type == OpType::kConv2d && graph.values[node.inputs[0]].shape[1] == 1) return false;
  return RunsInBf16(node.type, kernels);
}

}  // namespace

const char* PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kF32: return "fp32";
    case Precision::kBF16: return "bf16";
  }
  return "unknown";
}

const char* Bf16KernelsDescription(Bf16Kernels kernels) {
  switch (kernels) {
    case Bf16Kernels::kOneDnn:
      return "bf16 activations in every layer oneDNN has a bf16 kernel for";
    case Bf16Kernels::kTensorCores:
      return "bf16 on the GPU's tensor cores for convolutions and linear layers (the other ops, "
             "the master weights and the optimizer in fp32)";
  }
  return "unknown";
}

std::optional<Precision> ParsePrecision(std::string_view name) {
  if (name == "fp32") return Precision::kF32;
  if (name == "bf16") return Precision::kBF16;
  return std::nullopt;
}

int AssignBf16(ModelGraph& graph, Bf16Kernels kernels) {
  for (const Node& node : graph.nodes) {
    if (!NodeRunsInBf16(graph, node, kernels)) continue;
    for (ValueId out : node.outputs) {
      if (graph.values[out].role == ValueRole::kActivation) graph.values[out].dtype = DType::kBF16;
    }
  }
  // Each value's cast to the other type, made once, just before its first reader that needs it.
  std::map<std::pair<ValueId, DType>, ValueId> casts;
  std::vector<Node> nodes;
  for (Node& node : graph.nodes) {
    const DType wanted = NodeRunsInBf16(graph, node, kernels) ? DType::kBF16 : DType::kF32;
    for (ValueId& input : node.inputs) {
      const ValueInfo source = graph.values[input];
      if (!IsData(source) || source.dtype == wanted) continue;
      auto [it, added] = casts.try_emplace({input, wanted}, kNoValue);
      if (added) {
        const std::string name = source.name + "@" + DTypeName(wanted);
        graph.values.push_back({name, source.shape, wanted, ValueRole::kActivation});
        graph.inits.emplace_back();
        it->second = static_cast<ValueId>(graph.values.size() - 1);
        nodes.push_back({OpType::kCast, name, std::monostate{}, {input}, {it->second}});
      }
      input = it->second;
    }
    nodes.push_back(std::move(node));
  }
  graph.nodes = std::move(nodes);
  if (auto it = casts.find({graph.logits, DType::kF32}); it != casts.end()) {
    graph.logits = it->second;
  }
  return static_cast<int>(casts.size());
}

}  // namespace ald
