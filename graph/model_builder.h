// The model DSL: a model is a C++ function that calls one method per layer on a ModelBuilder,
// reading like its architecture table. Shapes are checked as each layer is added, through the
// ops' shape rules; the first error is kept, prefixed with the layer's path
// ("resnet20/stage2/block1/conv2: input has 32 channels, weight expects 16 ..."), later calls
// do nothing, and Finish() returns it. So model code needs no error plumbing per line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace ald {

struct ConvSpec {
  int64_t out = 0;      // output channels
  int64_t kernel = 3;
  int64_t stride = 1;
  int64_t padding = 0;
  bool bias = true;
  int64_t in = 0;       // expected input channels; 0 takes them from the input
};

class ModelBuilder {
 public:
  // `input` is the batch shape [N, C, H, W].
  ModelBuilder(std::string model, const Shape& input);

  ValueId input() const { return graph_.input; }
  const Shape& shape(ValueId value) const;
  int64_t channels(ValueId value) const { return shape(value)[1]; }
  bool ok() const { return status_.ok(); }

  // Layers added while a Scope lives are named under it: Scope s = m.Enter("stage2").
  class Scope {
   public:
    ~Scope() { builder_->scopes_.pop_back(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    friend class ModelBuilder;
    explicit Scope(ModelBuilder* builder) : builder_(builder) {}
    ModelBuilder* builder_;
  };
  [[nodiscard]] Scope Enter(const std::string& name);

  // Conv weights start as PyTorch's default (U(±1/sqrt(fan_in))) unless this is set, which
  // He et al.'s ResNets use: N(0, 2/fan_in).
  void UseKaimingNormalConvInit() { kaiming_normal_conv_ = true; }

  ValueId Conv(ValueId x, const ConvSpec& spec, const std::string& name = "conv");
  ValueId BatchNorm(ValueId x, const std::string& name = "bn");
  // y = f(x) for the element-wise function registered as `function` (ops/eltwise); the layer
  // is named after the function unless `name` says otherwise.
  ValueId Elementwise(const std::string& function, ValueId x, const std::string& name = "");
  ValueId Relu(ValueId x, const std::string& name = "relu") {
    return Elementwise("relu", x, name);
  }
  ValueId MaxPool(ValueId x, int64_t kernel, int64_t stride, int64_t padding = 0,
                  const std::string& name = "maxpool");
  ValueId AvgPool(ValueId x, int64_t kernel, int64_t stride, int64_t padding = 0,
                  const std::string& name = "avgpool");
  // Any window (non-square kernels, strides, padding) and, for averages, padding counted or not.
  ValueId MaxPool(ValueId x, const Pool2dWindow& window, const std::string& name = "maxpool");
  ValueId AvgPool(ValueId x, const AvgPool2dAttrs& attrs, const std::string& name = "avgpool");
  ValueId GlobalAvgPool(ValueId x, const std::string& name = "gap");
  ValueId Flatten(ValueId x, const std::string& name = "flatten");
  ValueId Linear(ValueId x, int64_t out_features, bool bias = true,
                 const std::string& name = "fc");
  ValueId Add(ValueId a, ValueId b, const std::string& name = "add");
  ValueId Dropout(ValueId x, float p, const std::string& name = "dropout");
  ValueId ShortcutPad(ValueId x, int64_t out_channels, int64_t stride,
                      const std::string& name = "shortcut");

  // Adds the labels [N] (i32), the mean softmax cross-entropy and the accuracy count on
  // `logits` [N, classes], and returns the graph, or the first error.
  absl::StatusOr<ModelGraph> Finish(ValueId logits);

 private:
  std::string LayerPath(const std::string& name);  // unique: a repeated name gets "_1", "_2"
  ValueId AddValue(const std::string& name, const Shape& shape, ValueRole role,
                   DType dtype = DType::kF32);
  ValueId AddParameter(const std::string& layer, const std::string& role, const Shape& shape,
                       ParameterInit init, bool trainable = true);
  // Records `status` (prefixed with the layer path) as the first error; returns kNoValue.
  ValueId Fail(const std::string& layer, const absl::Status& status);
  bool Usable(std::initializer_list<ValueId> values) const;
  // Adds a node with one activation output of `shape`.
  ValueId AddSimpleNode(OpType type, const std::string& layer, OpAttrs attrs,
                        std::vector<ValueId> inputs, const Shape& shape);

  ModelGraph graph_;
  std::vector<std::string> scopes_;
  std::vector<std::string> layer_paths_;
  absl::Status status_;
  bool kaiming_normal_conv_ = false;
};

}  // namespace ald
