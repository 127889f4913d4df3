#include "graph/graph.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ald {

const char* ValueRoleName(ValueRole role) {
  switch (role) {
    case ValueRole::kInput: return "input";
    case ValueRole::kLabels: return "labels";
    case ValueRole::kParameter: return "parameter";
    case ValueRole::kRunningStat: return "running_stat";
    case ValueRole::kActivation: return "activation";
    case ValueRole::kSaved: return "saved";
    case ValueRole::kGradient: return "gradient";
    case ValueRole::kParameterGradient: return "parameter_gradient";
    case ValueRole::kLoss: return "loss";
    case ValueRole::kMetric: return "metric";
  }
  return "unknown";
}

const char* OpTypeName(OpType type) {
  switch (type) {
    case OpType::kConv2d: return "conv2d";
    case OpType::kBatchNorm2d: return "batchnorm2d";
    case OpType::kElementwise: return "elementwise";
    case OpType::kMaxPool2d: return "maxpool2d";
    case OpType::kAvgPool2d: return "avgpool2d";
    case OpType::kGlobalAvgPool: return "global_avgpool";
    case OpType::kLinear: return "linear";
    case OpType::kAdd: return "add";
    case OpType::kFlatten: return "flatten";
    case OpType::kDropout: return "dropout";
    case OpType::kShortcutPad: return "shortcut_pad";
    case OpType::kSoftmaxCrossEntropy: return "softmax_cross_entropy";
    case OpType::kAccuracy: return "accuracy";
    case OpType::kCast: return "cast";
  }
  return "unknown";
}

std::string Node::OpName() const {
  return type == OpType::kElementwise ? std::get<ElementwiseAttrs>(attrs).function
                                      : OpTypeName(type);
}

bool Node::IsElementwise(std::string_view function) const {
  return type == OpType::kElementwise && std::get<ElementwiseAttrs>(attrs).function == function;
}

int64_t ModelGraph::NumParameters() const {
  int64_t total = 0;
  for (ValueId id : parameters) total += values[id].shape.num_elements();
  return total;
}

std::string ModelGraph::Summary() const {
  std::string out;
  for (const Node& node : nodes) {
    const ValueInfo& first_in = values[node.inputs.front()];
    const ValueInfo& first_out = values[node.outputs.front()];
    absl::StrAppend(&out, absl::StrFormat("%-40s %-22s %s%s -> %s%s\n", node.name,
                                          node.OpName(), DTypeName(first_in.dtype),
                                          first_in.shape.ToString(), DTypeName(first_out.dtype),
                                          first_out.shape.ToString()));
  }
  absl::StrAppend(&out, "trainable parameters: ", NumParameters(), "\n");
  return out;
}

}  // namespace ald
