#include "graph/reference_executor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "ops/eltwise/registry.h"
#include "ops/ref/add.h"
#include "ops/ref/avgpool2d.h"
#include "ops/ref/batchnorm2d.h"
#include "ops/ref/conv2d.h"
#include "ops/ref/global_avgpool.h"
#include "ops/ref/linear.h"
#include "ops/ref/maxpool2d.h"
#include "ops/ref/relu.h"
#include "ops/ref/shortcut_pad.h"
#include "ops/ref/softmax_cross_entropy.h"
#include "ops/shortcut_pad.h"

namespace ald {
namespace {

using Values = std::span<const double>;

ref::PoolGeometry Geometry(const Shape& x, const Pool2dWindow& w) {
  return {x[0],        x[1],        x[2],         x[3],         w.kernel[0],
          w.kernel[1], w.stride[0], w.stride[1], w.padding[0], w.padding[1]};
}

ref::ShortcutPadDims ShortcutDims(const Shape& x, const Shape& y, const ShortcutPadAttrs& a) {
  return {x[0], x[1], x[2], x[3], y[1], y[2], y[3], a.stride, ShortcutPadBefore(x[1], a)};
}

// ReLU in place, and the gradient through it (from the output y).
void ReluInPlace(std::vector<double>& y) { ref::ReluForward<double>(y, y); }
std::vector<double> ThroughRelu(Values y, Values dy) {
  std::vector<double> dz(dy.size());
  ref::ReluBackward<double>(y, dy, dz);
  return dz;
}

absl::StatusOr<const eltwise::Function*> FindFunction(const Node& node) {
  const std::string& name = std::get<ElementwiseAttrs>(node.attrs).function;
  const eltwise::Function* function = eltwise::Find(name);
  if (function == nullptr) {
    return absl::NotFoundError(absl::StrCat(node.name, ": no element-wise function ", name));
  }
  return function;
}

}  // namespace

ReferenceExecutor::ReferenceExecutor(const TrainingGraph& graph)
    : graph_(graph), data_(graph.graph.values.size()) {}

std::vector<double>& ReferenceExecutor::Out(ValueId value) {
  data_[value].assign(graph_.graph.value(value).shape.num_elements(), 0.0);
  return data_[value];
}

absl::Status ReferenceExecutor::Run() {
  if (graph_.loss_grad != kNoValue) data_[graph_.loss_grad] = {1.0};
  for (const ScheduleEntry& entry : graph_.schedule) {
    switch (entry.kind) {
      case ScheduleEntry::Kind::kForward:
        RETURN_IF_ERROR(Forward(graph_.graph.nodes[entry.index]));
        break;
      case ScheduleEntry::Kind::kSum: {
        const GradientSum& sum = graph_.sums[entry.index];
        std::vector<double>& total = Out(sum.total);
        for (ValueId part : sum.parts) {
          for (size_t i = 0; i < total.size(); ++i) total[i] += data_[part][i];
        }
        break;
      }
      case ScheduleEntry::Kind::kBackward:
        RETURN_IF_ERROR(Backward(graph_.backward[entry.index]));
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status ReferenceExecutor::Forward(const Node& node) {
  const ModelGraph& g = graph_.graph;
  auto in = [&](size_t i) -> Values { return data_[node.inputs[i]]; };
  const Shape& x_shape = g.value(node.inputs[0]).shape;
  const ValueId y = node.outputs[0];
  switch (node.type) {
    case OpType::kConv2d: {
      const Conv2dAttrs& attrs = std::get<Conv2dAttrs>(node.attrs);
      ASSIGN_OR_RETURN(Conv2dShapes shapes,
                       InferConv2d(x_shape, g.value(node.inputs[1]).shape, attrs));
      const std::vector<double> no_bias(shapes.output[1], 0.0);
      ref::Conv2dForward<double>(RefDims(shapes, attrs), in(0), in(1),
                                 attrs.bias ? in(2) : Values(no_bias), Out(y));
      if (attrs.fuse_relu) ReluInPlace(data_[y]);
      return absl::OkStatus();
    }
    case OpType::kLinear: {
      const LinearAttrs& attrs = std::get<LinearAttrs>(node.attrs);
      ASSIGN_OR_RETURN(LinearShapes shapes, InferLinear(x_shape, g.value(node.inputs[1]).shape));
      const std::vector<double> no_bias(shapes.output[1], 0.0);
      ref::LinearForward<double>(RefDims(shapes), in(0), in(1),
                                 attrs.bias ? in(2) : Values(no_bias), Out(y));
      return absl::OkStatus();
    }
    case OpType::kBatchNorm2d: {
      const BatchNorm2dAttrs& attrs = std::get<BatchNorm2dAttrs>(node.attrs);
      ASSIGN_OR_RETURN(BatchNorm2dShapes shapes, InferBatchNorm2d(x_shape, attrs));
      ref::BatchNorm2dForwardTraining<double>(RefDims(shapes), in(0), in(1), in(2), attrs.eps,
                                              Out(y), Out(node.outputs[1]), Out(node.outputs[2]));
      if (attrs.fuse_relu) ReluInPlace(data_[y]);
      return absl::OkStatus();
    }
    case OpType::kElementwise: {
      ASSIGN_OR_RETURN(const eltwise::Function* f, FindFunction(node));
      const Values x = in(0);
      std::vector<double>& out = Out(y);
      for (size_t i = 0; i < x.size(); ++i) out[i] = f->forward(x[i]);
      return absl::OkStatus();
    }
    case OpType::kMaxPool2d:
      ref::MaxPool2dForward<double>(Geometry(x_shape, std::get<Pool2dWindow>(node.attrs)), in(0),
                                    Out(y));
      return absl::OkStatus();
    case OpType::kAvgPool2d: {
      const AvgPool2dAttrs& attrs = std::get<AvgPool2dAttrs>(node.attrs);
      ref::AvgPool2dForward<double>(Geometry(x_shape, attrs.window), attrs.count_include_pad,
                                    in(0), Out(y));
      return absl::OkStatus();
    }
    case OpType::kGlobalAvgPool:
      ref::GlobalAvgPoolForward<double>(x_shape[2] * x_shape[3], in(0), Out(y));
      return absl::OkStatus();
    case OpType::kShortcutPad:
      ref::ShortcutPadForward<double>(
          ShortcutDims(x_shape, g.value(y).shape, std::get<ShortcutPadAttrs>(node.attrs)), in(0),
          Out(y));
      return absl::OkStatus();
    case OpType::kAdd:
      ref::AddForward<double>(in(0), in(1), std::get<AddAttrs>(node.attrs).fuse_relu, Out(y));
      return absl::OkStatus();
    case OpType::kFlatten:
    case OpType::kCast:  // the reference computes in double: a change of type is the identity
      data_[y] = data_[node.inputs[0]];
      return absl::OkStatus();
    case OpType::kSoftmaxCrossEntropy: {
      const int64_t classes = x_shape[1];
      std::vector<int32_t> labels(data_[node.inputs[1]].begin(), data_[node.inputs[1]].end());
      std::vector<double> log_probs(data_[node.inputs[0]].size());
      ref::LogSoftmax<double>(classes, in(0), log_probs);
      Out(y)[0] = ref::CrossEntropyLoss<double>(classes, log_probs, labels);
      return absl::OkStatus();
    }
    case OpType::kAccuracy: Out(y); return absl::OkStatus();
    case OpType::kDropout:
      return absl::UnimplementedError(
          absl::StrCat(node.name, ": the reference executor has no dropout"));
  }
  return absl::InternalError(absl::StrCat(node.name, ": unknown op"));
}

absl::Status ReferenceExecutor::Backward(const BackwardStep& step) {
  const ModelGraph& g = graph_.graph;
  const Node& node = g.nodes[step.node];
  auto in = [&](size_t i) -> Values { return data_[node.inputs[i]]; };
  auto grad = [&](size_t i) -> std::vector<double>& { return Out(step.input_grads[i]); };
  auto wants = [&](size_t i) { return step.input_grads[i] != kNoValue; };
  const Shape& x_shape = g.value(node.inputs[0]).shape;
  const ValueId y = node.outputs[0];
  const Values dy = data_[step.output_grad];
  switch (node.type) {
    case OpType::kConv2d: {
      const Conv2dAttrs& attrs = std::get<Conv2dAttrs>(node.attrs);
      ASSIGN_OR_RETURN(Conv2dShapes shapes,
                       InferConv2d(x_shape, g.value(node.inputs[1]).shape, attrs));
      const std::vector<double> dz =
          attrs.fuse_relu ? ThroughRelu(data_[y], dy) : std::vector<double>(dy.begin(), dy.end());
      std::vector<double> no_bias(shapes.output[1], 0.0);
      ref::Conv2dBackwardWeights<double>(RefDims(shapes, attrs), in(0), dz, grad(1),
                                         attrs.bias ? grad(2) : no_bias);
      if (wants(0)) ref::Conv2dBackwardData<double>(RefDims(shapes, attrs), dz, in(1), grad(0));
      return absl::OkStatus();
    }
    case OpType::kLinear: {
      ASSIGN_OR_RETURN(LinearShapes shapes, InferLinear(x_shape, g.value(node.inputs[1]).shape));
      std::vector<double> no_bias(shapes.output[1], 0.0);
      ref::LinearBackwardWeights<double>(RefDims(shapes), in(0), dy, grad(1),
                                         node.inputs.size() > 2 ? grad(2) : no_bias);
      if (wants(0)) ref::LinearBackwardData<double>(RefDims(shapes), dy, in(1), grad(0));
      return absl::OkStatus();
    }
    case OpType::kBatchNorm2d: {
      const BatchNorm2dAttrs& attrs = std::get<BatchNorm2dAttrs>(node.attrs);
      ASSIGN_OR_RETURN(BatchNorm2dShapes shapes, InferBatchNorm2d(x_shape, attrs));
      const std::vector<double> dz =
          attrs.fuse_relu ? ThroughRelu(data_[y], dy) : std::vector<double>(dy.begin(), dy.end());
      std::vector<double> dx(x_shape.num_elements());
      ref::BatchNorm2dBackward<double>(RefDims(shapes), in(0), in(1), data_[node.outputs[1]],
                                       data_[node.outputs[2]], dz, attrs.eps,
                                       wants(0) ? grad(0) : dx, grad(1), grad(2));
      return absl::OkStatus();
    }
    case OpType::kElementwise: {
      ASSIGN_OR_RETURN(const eltwise::Function* f, FindFunction(node));
      const Values saved = f->saved == eltwise::Saved::kOutput ? data_[y] : in(0);
      std::vector<double>& dx = grad(0);
      for (size_t i = 0; i < dx.size(); ++i) dx[i] = f->backward(saved[i], dy[i]);
      return absl::OkStatus();
    }
    case OpType::kMaxPool2d:
      ref::MaxPool2dBackward<double>(Geometry(x_shape, std::get<Pool2dWindow>(node.attrs)), in(0),
                                     dy, grad(0));
      return absl::OkStatus();
    case OpType::kAvgPool2d: {
      const AvgPool2dAttrs& attrs = std::get<AvgPool2dAttrs>(node.attrs);
      ref::AvgPool2dBackward<double>(Geometry(x_shape, attrs.window), attrs.count_include_pad, dy,
                                     grad(0));
      return absl::OkStatus();
    }
    case OpType::kGlobalAvgPool:
      ref::GlobalAvgPoolBackward<double>(x_shape[2] * x_shape[3], dy, grad(0));
      return absl::OkStatus();
    case OpType::kShortcutPad:
      ref::ShortcutPadBackward<double>(
          ShortcutDims(x_shape, g.value(y).shape, std::get<ShortcutPadAttrs>(node.attrs)), dy,
          grad(0));
      return absl::OkStatus();
    case OpType::kAdd: {
      if (!std::get<AddAttrs>(node.attrs).fuse_relu) return absl::OkStatus();  // dy is shared
      const size_t target = wants(0) ? 0 : 1;
      ref::AddBackward<double>(data_[y], dy, true, grad(target));
      return absl::OkStatus();
    }
    case OpType::kFlatten:
    case OpType::kCast:
      data_[step.input_grads[0]].assign(dy.begin(), dy.end());
      return absl::OkStatus();
    case OpType::kSoftmaxCrossEntropy: {
      const int64_t classes = x_shape[1];
      std::vector<int32_t> labels(data_[node.inputs[1]].begin(), data_[node.inputs[1]].end());
      std::vector<double> log_probs(data_[node.inputs[0]].size());
      ref::LogSoftmax<double>(classes, in(0), log_probs);
      ref::SoftmaxCrossEntropyBackward<double>(classes, log_probs, labels, dy[0], grad(0));
      return absl::OkStatus();
    }
    case OpType::kAccuracy: return absl::OkStatus();
    case OpType::kDropout:
      return absl::UnimplementedError(
          absl::StrCat(node.name, ": the reference executor has no dropout"));
  }
  return absl::InternalError(absl::StrCat(node.name, ": unknown op"));
}

}  // namespace ald
