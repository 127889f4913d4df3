// The graph IR: plain data (values and nodes in execution order) that the model DSL builds and
// the compiler passes transform. A value is a tensor with a name, shape and role; a node is one
// op reading and writing values. Parameters carry their initialisation rule.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"
#include "ops/add.h"
#include "ops/avgpool2d.h"
#include "ops/batchnorm2d.h"
#include "ops/conv2d.h"
#include "ops/dropout.h"
#include "ops/linear.h"
#include "ops/pool2d_window.h"
#include "ops/shortcut_pad.h"

namespace ald {

using ValueId = int32_t;
inline constexpr ValueId kNoValue = -1;

enum class ValueRole {
  kInput,        // the batch of images
  kLabels,       // the batch of integer labels
  kParameter,    // trainable: conv/linear weights and biases, batch-norm scale and shift
  kRunningStat,  // batch-norm running mean/variance: state, updated by the forward, not trained
  kActivation,   // an intermediate of the forward pass
  kSaved,        // kept by a forward for its backward (batch statistics, pooling workspace)
  kGradient,     // an intermediate gradient of the backward pass
  kParameterGradient,  // the final gradient of a parameter: persistent, read by the optimizer
  kLoss,         // the scalar loss
  kMetric,       // the number of correct predictions
};

const char* ValueRoleName(ValueRole role);

struct ValueInfo {
  std::string name;  // the layer path and role: "resnet20/stage2/block1/conv2/weight"
  Shape shape;
  DType dtype = DType::kF32;
  ValueRole role = ValueRole::kActivation;
};

// How a parameter or running statistic starts.
struct ParameterInit {
  enum class Rule {
    kKaimingNormal,  // N(0, 2 / fan_in): He et al., for conv weights followed by ReLU
    kUniform,        // U(-bound, bound): PyTorch's default for linear layers and biases
    kConstant,       // every element `value`: batch-norm scale 1, shift 0, running stats
  };
  Rule rule = Rule::kConstant;
  double fan_in = 1;  // kKaimingNormal
  double bound = 0;   // kUniform
  double value = 0;   // kConstant
};

enum class OpType {
  kConv2d,
  kBatchNorm2d,
  kElementwise,  // y = f(x) for a function registered by name in ops/eltwise (relu)
  kMaxPool2d,
  kAvgPool2d,
  kGlobalAvgPool,
  kLinear,
  kAdd,
  kFlatten,
  kDropout,
  kShortcutPad,
  kSoftmaxCrossEntropy,
  kAccuracy,
  kCast,  // y = x in y's element type (f32 <-> bf16); inserted by graph/precision_pass.h
};

const char* OpTypeName(OpType type);

// Which element-wise function a kElementwise node applies: a name in ops/eltwise/registry.h.
struct ElementwiseAttrs {
  std::string function;
};

using OpAttrs = std::variant<std::monostate, Conv2dAttrs, BatchNorm2dAttrs, Pool2dWindow,
                             AvgPool2dAttrs, LinearAttrs, AddAttrs, DropoutAttrs,
                             ShortcutPadAttrs, ElementwiseAttrs>;

// One op. Inputs and outputs follow a fixed order per op type (see model_builder.cc):
//   conv2d      (x, weight[, bias])                 -> (y)
//   batchnorm2d (x, gamma, beta, run_mean, run_var) -> (y, saved_mean, saved_var)
//   linear      (x, weight[, bias])                 -> (y)
//   softmax_cross_entropy (logits, labels)          -> (loss)
//   accuracy    (logits, labels)                    -> (correct)
//   the others  (x) or (a, b)                       -> (y)
struct Node {
  OpType type;
  std::string name;  // the layer path: "resnet20/stage2/block1/conv2"
  OpAttrs attrs;
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;

  // What the op computes: the element-wise function's name ("relu") or OpTypeName.
  std::string OpName() const;
  // Whether this is the element-wise function `function`.
  bool IsElementwise(std::string_view function) const;
};

struct ModelGraph {
  std::string model;
  std::vector<ValueInfo> values;
  std::vector<Node> nodes;  // forward ops in execution order
  std::vector<ValueId> parameters;     // trainable, in definition order
  std::vector<ValueId> running_stats;  // non-trainable state
  std::vector<ParameterInit> inits;    // indexed by ValueId; meaningful for the two lists above
  ValueId input = kNoValue, labels = kNoValue, logits = kNoValue, loss = kNoValue,
          correct = kNoValue;

  const ValueInfo& value(ValueId id) const { return values[id]; }
  // Trainable elements (batch-norm scale and shift counted, running statistics not).
  int64_t NumParameters() const;
  // One line per node: "resnet20/conv1  conv2d  f32[128, 3, 32, 32] -> f32[128, 16, 32, 32]".
  std::string Summary() const;
};

}  // namespace ald
