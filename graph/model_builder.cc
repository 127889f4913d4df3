#include "graph/model_builder.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/dropout.h"
#include "ops/eltwise/registry.h"
#include "ops/flatten.h"
#include "ops/global_avgpool.h"
#include "ops/maxpool2d.h"
#include "ops/softmax_cross_entropy.h"

namespace ald {
namespace {

ParameterInit Constant(double value) {
  return {ParameterInit::Rule::kConstant, 1, 0, value};
}
ParameterInit UniformFanIn(double fan_in) {
  return {ParameterInit::Rule::kUniform, fan_in, 1.0 / std::sqrt(fan_in), 0};
}

}  // namespace

ModelBuilder::ModelBuilder(std::string model, const Shape& input) {
  graph_.model = model;
  scopes_.push_back(std::move(model));
  if (input.rank() != 4 || input.num_elements() <= 0) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat(graph_.model, ": the input must be a non-empty batch [N, C, H, W], got ",
                     input.ToString()));
    return;
  }
  graph_.input = AddValue(graph_.model + "/input", input, ValueRole::kInput);
}

const Shape& ModelBuilder::shape(ValueId value) const {
  static const Shape* const kNone = new Shape{0, 0, 0, 0};
  return value == kNoValue ? *kNone : graph_.values[value].shape;
}

ModelBuilder::Scope ModelBuilder::Enter(const std::string& name) {
  scopes_.push_back(name);
  return Scope(this);
}

std::string ModelBuilder::LayerPath(const std::string& name) {
  const std::string base = absl::StrCat(absl::StrJoin(scopes_, "/"), "/", name);
  std::string path = base;
  for (int suffix = 1; std::find(layer_paths_.begin(), layer_paths_.end(), path) !=
                       layer_paths_.end();
       ++suffix) {
    path = absl::StrCat(base, "_", suffix);
  }
  layer_paths_.push_back(path);
  return path;
}

ValueId ModelBuilder::AddValue(const std::string& name, const Shape& shape, ValueRole role,
                               DType dtype) {
  graph_.values.push_back({name, shape, dtype, role});
  graph_.inits.emplace_back();
  return static_cast<ValueId>(graph_.values.size() - 1);
}

ValueId ModelBuilder::AddParameter(const std::string& layer, const std::string& role,
                                   const Shape& shape, ParameterInit init, bool trainable) {
  const ValueId id = AddValue(absl::StrCat(layer, "/", role), shape,
                              trainable ? ValueRole::kParameter : ValueRole::kRunningStat);
  graph_.inits[id] = init;
  (trainable ? graph_.parameters : graph_.running_stats).push_back(id);
  return id;
}

ValueId ModelBuilder::Fail(const std::string& layer, const absl::Status& status) {
  if (status_.ok()) {
    status_ = absl::Status(status.code(), absl::StrCat(layer, ": ", status.message()));
  }
  return kNoValue;
}

bool ModelBuilder::Usable(std::initializer_list<ValueId> values) const {
  if (!status_.ok()) return false;
  return std::all_of(values.begin(), values.end(), [](ValueId v) { return v != kNoValue; });
}

ValueId ModelBuilder::AddSimpleNode(OpType type, const std::string& layer, OpAttrs attrs,
                                    std::vector<ValueId> inputs, const Shape& shape) {
  const ValueId out = AddValue(layer + "/out", shape, ValueRole::kActivation);
  graph_.nodes.push_back({type, layer, std::move(attrs), std::move(inputs), {out}});
  return out;
}

ValueId ModelBuilder::Conv(ValueId x, const ConvSpec& spec, const std::string& name) {
  if (!Usable({x})) return kNoValue;
  const std::string layer = LayerPath(name);
  const int64_t in = spec.in > 0 ? spec.in : channels(x);
  const Shape weight{spec.out, in, spec.kernel, spec.kernel};
  Conv2dAttrs attrs;
  attrs.stride = {spec.stride, spec.stride};
  attrs.padding = {spec.padding, spec.padding};
  attrs.bias = spec.bias;
  absl::StatusOr<Conv2dShapes> shapes = InferConv2d(shape(x), weight, attrs);
  if (!shapes.ok()) return Fail(layer, shapes.status());
  const double fan_in = static_cast<double>(in * spec.kernel * spec.kernel);
  const ParameterInit weight_init =
      kaiming_normal_conv_ ? ParameterInit{ParameterInit::Rule::kKaimingNormal, fan_in, 0, 0}
                           : UniformFanIn(fan_in);
  std::vector<ValueId> inputs = {x, AddParameter(layer, "weight", weight, weight_init)};
  if (spec.bias) inputs.push_back(AddParameter(layer, "bias", Shape{spec.out}, UniformFanIn(fan_in)));
  return AddSimpleNode(OpType::kConv2d, layer, attrs, std::move(inputs), shapes->output);
}

ValueId ModelBuilder::BatchNorm(ValueId x, const std::string& name) {
  if (!Usable({x})) return kNoValue;
  const std::string layer = LayerPath(name);
  BatchNorm2dAttrs attrs;
  absl::StatusOr<BatchNorm2dShapes> shapes = InferBatchNorm2d(shape(x), attrs);
  if (!shapes.ok()) return Fail(layer, shapes.status());
  const Shape& channel = shapes->channel;
  std::vector<ValueId> inputs = {x, AddParameter(layer, "weight", channel, Constant(1)),
                                 AddParameter(layer, "bias", channel, Constant(0)),
                                 AddParameter(layer, "running_mean", channel, Constant(0), false),
                                 AddParameter(layer, "running_var", channel, Constant(1), false)};
  const ValueId y = AddValue(layer + "/out", shape(x), ValueRole::kActivation);
  const ValueId mean = AddValue(layer + "/saved_mean", channel, ValueRole::kSaved);
  const ValueId var = AddValue(layer + "/saved_var", channel, ValueRole::kSaved);
  graph_.nodes.push_back({OpType::kBatchNorm2d, layer, attrs, std::move(inputs), {y, mean, var}});
  return y;
}

ValueId ModelBuilder::Elementwise(const std::string& function, ValueId x,
                                  const std::string& name) {
  if (!Usable({x})) return kNoValue;
  const std::string layer = LayerPath(name.empty() ? function : name);
  if (eltwise::Find(function) == nullptr) {
    return Fail(layer, absl::NotFoundError(absl::StrCat(
                           "no element-wise function \"", function, "\"; registered: ",
                           absl::StrJoin(eltwise::Names(), ", "))));
  }
  return AddSimpleNode(OpType::kElementwise, layer, ElementwiseAttrs{function}, {x}, shape(x));
}

ValueId ModelBuilder::MaxPool(ValueId x, int64_t kernel, int64_t stride, int64_t padding,
                              const std::string& name) {
  return MaxPool(x, Pool2dWindow{{kernel, kernel}, {stride, stride}, {padding, padding}}, name);
}

ValueId ModelBuilder::MaxPool(ValueId x, const Pool2dWindow& window, const std::string& name) {
  if (!Usable({x})) return kNoValue;
  const std::string layer = LayerPath(name);
  absl::StatusOr<Shape> out = MaxPool2dShape(shape(x), window);
  if (!out.ok()) return Fail(layer, out.status());
  return AddSimpleNode(OpType::kMaxPool2d, layer, window, {x}, *out);
}

ValueId ModelBuilder::AvgPool(ValueId x, int64_t kernel, int64_t stride, int64_t padding,
                              const std::string& name) {
  AvgPool2dAttrs attrs;
  attrs.window = {{kernel, kernel}, {stride, stride}, {padding, padding}};
  return AvgPool(x, attrs, name);
}

ValueId ModelBuilder::AvgPool(ValueId x, const AvgPool2dAttrs& attrs, const std::string& name) {
  if (!Usable({x})) return kNoValue;
  const std::string layer = LayerPath(name);
  absl::StatusOr<Shape> out = AvgPool2dShape(shape(x), attrs);
  if (!out.ok()) return Fail(layer, out.status());
  return AddSimpleNode(OpType::kAvgPool2d, layer, attrs, {x}, *out);
}

ValueId ModelBuilder::GlobalAvgPool(ValueId x, const std::string& name) {
  if (!Usable({x})) return kNoValue;
  const std::string layer = LayerPath(name);
  absl::StatusOr<Shape> out = GlobalAvgPoolShape(shape(x));
  if (!out.ok()) return Fail(layer, out.status());
  return AddSimpleNode(OpType::kGlobalAvgPool, layer, std::monostate{}, {x}, *out);
}

ValueId ModelBuilder::Flatten(ValueId x, const std::string& name) {
  if (!Usable({x})) return kNoValue;
  const std::string layer = LayerPath(name);
  absl::StatusOr<Shape> out = FlattenShape(shape(x));
  if (!out.ok()) return Fail(layer, out.status());
  return AddSimpleNode(OpType::kFlatten, layer, std::monostate{}, {x}, *out);
}

ValueId ModelBuilder::Linear(ValueId x, int64_t out_features, bool bias, const std::string& name) {
  if (!Usable({x})) return kNoValue;
  const std::string layer = LayerPath(name);
  const int64_t in = shape(x).rank() == 2 ? shape(x)[1] : 0;
  const Shape weight{out_features, in};
  absl::StatusOr<LinearShapes> shapes = InferLinear(shape(x), weight);
  if (!shapes.ok()) return Fail(layer, shapes.status());
  const double fan_in = static_cast<double>(in);
  std::vector<ValueId> inputs = {x, AddParameter(layer, "weight", weight, UniformFanIn(fan_in))};
  if (bias) inputs.push_back(AddParameter(layer, "bias", Shape{out_features}, UniformFanIn(fan_in)));
  LinearAttrs attrs;
  attrs.bias = bias;
  return AddSimpleNode(OpType::kLinear, layer, attrs, std::move(inputs), shapes->output);
}

ValueId ModelBuilder::Add(ValueId a, ValueId b, const std::string& name) {
  if (!Usable({a, b})) return kNoValue;
  const std::string layer = LayerPath(name);
  absl::StatusOr<Shape> out = AddShape(shape(a), shape(b));
  if (!out.ok()) return Fail(layer, out.status());
  return AddSimpleNode(OpType::kAdd, layer, AddAttrs{}, {a, b}, *out);
}

ValueId ModelBuilder::Dropout(ValueId x, float p, const std::string& name) {
  if (!Usable({x})) return kNoValue;
  const std::string layer = LayerPath(name);
  DropoutAttrs attrs;
  attrs.p = p;
  attrs.layer = static_cast<uint32_t>(std::count_if(
      graph_.nodes.begin(), graph_.nodes.end(),
      [](const Node& node) { return node.type == OpType::kDropout; }));
  absl::StatusOr<Shape> out = DropoutShape(shape(x), attrs);
  if (!out.ok()) return Fail(layer, out.status());
  return AddSimpleNode(OpType::kDropout, layer, attrs, {x}, *out);
}

ValueId ModelBuilder::ShortcutPad(ValueId x, int64_t out_channels, int64_t stride,
                                  const std::string& name) {
  if (!Usable({x})) return kNoValue;
  const std::string layer = LayerPath(name);
  const ShortcutPadAttrs attrs{out_channels, stride};
  absl::StatusOr<Shape> out = ShortcutPadShape(shape(x), attrs);
  if (!out.ok()) return Fail(layer, out.status());
  return AddSimpleNode(OpType::kShortcutPad, layer, attrs, {x}, *out);
}

absl::StatusOr<ModelGraph> ModelBuilder::Finish(ValueId logits) {
  if (!Usable({logits})) {
    if (!status_.ok()) return status_;
    return absl::InvalidArgumentError(absl::StrCat(graph_.model, ": no logits to finish with"));
  }
  const std::string layer = LayerPath("loss");
  const Shape labels_shape{shape(logits)[0]};
  absl::StatusOr<Shape> loss_shape =
      SoftmaxCrossEntropyShape(shape(logits), DType::kF32, labels_shape, DType::kI32);
  if (!loss_shape.ok()) {
    Fail(layer, loss_shape.status());
    return status_;
  }
  graph_.logits = logits;
  graph_.labels = AddValue(graph_.model + "/labels", labels_shape, ValueRole::kLabels, DType::kI32);
  graph_.loss = AddValue(layer + "/out", *loss_shape, ValueRole::kLoss);
  graph_.nodes.push_back(
      {OpType::kSoftmaxCrossEntropy, layer, std::monostate{}, {logits, graph_.labels}, {graph_.loss}});
  const std::string metric = LayerPath("accuracy");
  graph_.correct = AddValue(metric + "/out", Shape{}, ValueRole::kMetric, DType::kI32);
  graph_.nodes.push_back(
      {OpType::kAccuracy, metric, std::monostate{}, {logits, graph_.labels}, {graph_.correct}});
  return graph_;
}

}  // namespace ald
