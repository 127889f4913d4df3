#include "graph/lowering.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "graph/bucket_signals.h"
#include "graph/layout_pass.h"
#include "graph/memory_plan.h"
#include "graph/schedule_walk.h"
#include "ops/cpu/accuracy.h"
#include "ops/cpu/add.h"
#include "ops/cpu/avgpool2d.h"
#include "ops/cpu/batchnorm2d.h"
#include "ops/cpu/conv2d.h"
#include "ops/cpu/dropout.h"
#include "ops/cpu/global_avgpool.h"
#include "ops/cpu/linear.h"
#include "ops/cpu/maxpool2d.h"
#include "ops/cpu/relu.h"
#include "ops/cpu/shortcut_pad.h"
#include "ops/cpu/softmax_cross_entropy.h"
#include "ops/mixing.h"

namespace ald {
namespace {

// The tensor of `value`, or an undefined one for kNoValue (an absent bias or gradient).
Tensor& Bound(Plan& plan, ValueId value) {
  static Tensor none;
  return value == kNoValue ? none : plan.tensor(value);
}

}  // namespace

PlanBuilder::PlanBuilder(const TrainingGraph& graph, ParameterStore& store, bool training,
                         bool blocked_layouts)
    // Plan's constructor is private (only lowering makes plans), so no make_unique.
    : LoweringBase(graph, std::unique_ptr<Plan>(new Plan())),
      store_(store),
      blocked_(blocked_layouts ? ChooseBlockedLayouts(graph)
                               : std::vector<bool>(graph.graph.values.size(), false)) {
  plan_->training_ = training;
}

ValueId PlanBuilder::NewValue(const std::string& name, const Shape& shape, DType dtype,
                              ValueRole role, ValueId like) {
  blocked_.push_back(like != kNoValue && blocked_[like]);
  return AppendValue(name, shape, dtype, role);
}

absl::Status PlanBuilder::LowerForward(int index) {
  const Node& node = graph_.graph.nodes[index];
  const std::vector<ValueId>& in = node.inputs;
  const ValueId y = node.outputs[0];
  const bool training = plan_->training_;
  const std::string name = absl::StrCat(node.name, " forward");
  auto fail = [&](const absl::Status& status) {
    return absl::Status(status.code(), absl::StrCat(node.name, ": ", status.message()));
  };
  switch (node.type) {
    case OpType::kConv2d: {
      absl::StatusOr<std::unique_ptr<cpu::Conv2dCpu>> made =
          cpu::Conv2dCpu::Create(shape(in[0]), shape(in[1]), std::get<Conv2dAttrs>(node.attrs),
                                 Layout(in[0]), Layout(y));
      if (!made.ok()) return fail(made.status());
      cpu::Conv2dCpu* conv = Own(*std::move(made));
      node_kernel_[index] = conv;
      const ValueId x = in[0], w = in[1], b = in.size() > 2 ? in[2] : kNoValue;
      Add(name, false, Present({x, w, b}), {y}, [=](Plan& p) {
        return conv->Forward(p.tensor(x), p.tensor(w), Bound(p, b), p.tensor(y));
      });
      return absl::OkStatus();
    }
    case OpType::kLinear: {
      absl::StatusOr<std::unique_ptr<cpu::LinearCpu>> made =
          cpu::LinearCpu::Create(shape(in[0]), shape(in[1]), std::get<LinearAttrs>(node.attrs));
      if (!made.ok()) return fail(made.status());
      cpu::LinearCpu* linear = Own(*std::move(made));
      node_kernel_[index] = linear;
      const ValueId x = in[0], w = in[1], b = in.size() > 2 ? in[2] : kNoValue;
      Add(name, false, Present({x, w, b}), {y}, [=](Plan& p) {
        return linear->Forward(p.tensor(x), p.tensor(w), Bound(p, b), p.tensor(y));
      });
      return absl::OkStatus();
    }
    case OpType::kBatchNorm2d: {
      absl::StatusOr<std::unique_ptr<cpu::BatchNorm2dCpu>> made =
          cpu::BatchNorm2dCpu::Create(shape(in[0]), std::get<BatchNorm2dAttrs>(node.attrs),
                                      Layout(in[0]));
      if (!made.ok()) return fail(made.status());
      cpu::BatchNorm2dCpu* bn = Own(*std::move(made));
      node_kernel_[index] = bn;
      const ValueId x = in[0], gamma = in[1], beta = in[2], rmean = in[3], rvar = in[4];
      const ValueId mean = node.outputs[1], var = node.outputs[2];
      if (training) {
        Add(name, false, {x, gamma, beta}, {y, mean, var}, [=](Plan& p) {
          return bn->ForwardTraining(p.tensor(x), p.tensor(gamma), p.tensor(beta), p.tensor(y),
                                     p.tensor(mean), p.tensor(var), p.tensor(rmean),
                                     p.tensor(rvar));
        });
      } else {
        Add(name, false, {x, gamma, beta}, {y}, [=](Plan& p) {
          return bn->ForwardInference(p.tensor(x), p.tensor(gamma), p.tensor(beta),
                                      p.tensor(rmean), p.tensor(rvar), p.tensor(y));
        });
      }
      return absl::OkStatus();
    }
    case OpType::kRelu: {
      absl::StatusOr<std::unique_ptr<cpu::ReluCpu>> made = cpu::ReluCpu::Create(shape(in[0]), Layout(in[0]));
      if (!made.ok()) return fail(made.status());
      cpu::ReluCpu* relu = Own(*std::move(made));
      node_kernel_[index] = relu;
      const ValueId x = in[0];
      Add(name, false, {x}, {y}, [=](Plan& p) { return relu->Forward(p.tensor(x), p.tensor(y)); });
      return absl::OkStatus();
    }
    case OpType::kMaxPool2d: {
      absl::StatusOr<std::unique_ptr<cpu::MaxPool2dCpu>> made =
          cpu::MaxPool2dCpu::Create(shape(in[0]), std::get<Pool2dWindow>(node.attrs), Layout(in[0]));
      if (!made.ok()) return fail(made.status());
      cpu::MaxPool2dCpu* pool = Own(*std::move(made));
      node_kernel_[index] = pool;
      const ValueId x = in[0];
      if (training) {
        const ValueId workspace = NewValue(node.name + "/workspace", pool->workspace_shape(),
                                           DType::kI32, ValueRole::kSaved);
        node_saved_[index] = workspace;
        Add(name, false, {x}, {y, workspace}, [=](Plan& p) {
          return pool->Forward(p.tensor(x), p.tensor(y), p.tensor(workspace));
        });
      } else {
        Add(name, false, {x}, {y},
            [=](Plan& p) { return pool->ForwardInference(p.tensor(x), p.tensor(y)); });
      }
      return absl::OkStatus();
    }
    case OpType::kAvgPool2d: {
      absl::StatusOr<std::unique_ptr<cpu::AvgPool2dCpu>> made =
          cpu::AvgPool2dCpu::Create(shape(in[0]), std::get<AvgPool2dAttrs>(node.attrs),
                                    Layout(in[0]));
      if (!made.ok()) return fail(made.status());
      cpu::AvgPool2dCpu* pool = Own(*std::move(made));
      node_kernel_[index] = pool;
      const ValueId x = in[0];
      Add(name, false, {x}, {y}, [=](Plan& p) { return pool->Forward(p.tensor(x), p.tensor(y)); });
      return absl::OkStatus();
    }
    case OpType::kGlobalAvgPool: {
      absl::StatusOr<std::unique_ptr<cpu::GlobalAvgPoolCpu>> made =
          cpu::GlobalAvgPoolCpu::Create(shape(in[0]), Layout(in[0]));
      if (!made.ok()) return fail(made.status());
      cpu::GlobalAvgPoolCpu* pool = Own(*std::move(made));
      node_kernel_[index] = pool;
      const ValueId x = in[0];
      Add(name, false, {x}, {y}, [=](Plan& p) { return pool->Forward(p.tensor(x), p.tensor(y)); });
      return absl::OkStatus();
    }
    case OpType::kShortcutPad: {
      absl::StatusOr<std::unique_ptr<cpu::ShortcutPadCpu>> made =
          cpu::ShortcutPadCpu::Create(shape(in[0]), std::get<ShortcutPadAttrs>(node.attrs),
                                      Layout(in[0]));
      if (!made.ok()) return fail(made.status());
      cpu::ShortcutPadCpu* pad = Own(*std::move(made));
      node_kernel_[index] = pad;
      const ValueId x = in[0];
      Add(name, false, {x}, {y}, [=](Plan& p) { return pad->Forward(p.tensor(x), p.tensor(y)); });
      return absl::OkStatus();
    }
    case OpType::kAdd: {
      absl::StatusOr<std::unique_ptr<cpu::AddCpu>> made =
          cpu::AddCpu::Create(shape(in[0]), std::get<AddAttrs>(node.attrs), Layout(in[0]));
      if (!made.ok()) return fail(made.status());
      cpu::AddCpu* add = Own(*std::move(made));
      node_kernel_[index] = add;
      const ValueId a = in[0], b = in[1];
      Add(name, false, {a, b}, {y},
          [=](Plan& p) { return add->Forward(p.tensor(a), p.tensor(b), p.tensor(y)); });
      return absl::OkStatus();
    }
    case OpType::kFlatten:
      alias_of_[y] = in[0];  // a view: no launch
      return absl::OkStatus();
    case OpType::kDropout: {
      absl::StatusOr<std::unique_ptr<cpu::DropoutCpu>> made =
          cpu::DropoutCpu::Create(shape(in[0]), std::get<DropoutAttrs>(node.attrs));
      if (!made.ok()) return fail(made.status());
      cpu::DropoutCpu* dropout = Own(*std::move(made));
      node_kernel_[index] = dropout;
      const ValueId x = in[0];
      Add(name, false, {x}, {y}, [=](Plan& p) {
        return training ? dropout->Forward(p.tensor(x), p.dropout_key(), p.tensor(y))
                        : dropout->ForwardInference(p.tensor(x), p.tensor(y));
      });
      return absl::OkStatus();
    }
    case OpType::kSoftmaxCrossEntropy: {
      absl::StatusOr<std::unique_ptr<cpu::SoftmaxCrossEntropyCpu>> made =
          cpu::SoftmaxCrossEntropyCpu::Create(shape(in[0]));
      if (!made.ok()) return fail(made.status());
      cpu::SoftmaxCrossEntropyCpu* loss = Own(*std::move(made));
      node_kernel_[index] = loss;
      const ValueId logits = in[0], labels = in[1];
      const ValueId log_probs =
          NewValue(node.name + "/log_probs", shape(logits), DType::kF32, ValueRole::kSaved);
      node_saved_[index] = log_probs;
      Add(name, false, {logits, labels}, {log_probs, y}, [=](Plan& p) {
        return loss->Forward(p.tensor(logits), p.tensor(labels), p.tensor(log_probs),
                             p.tensor(y));
      });
      return absl::OkStatus();
    }
    case OpType::kAccuracy: {
      absl::StatusOr<std::unique_ptr<cpu::AccuracyCpu>> made =
          cpu::AccuracyCpu::Create(shape(in[0]));
      if (!made.ok()) return fail(made.status());
      cpu::AccuracyCpu* accuracy = Own(*std::move(made));
      const ValueId logits = in[0], labels = in[1];
      Add(name, false, {logits, labels}, {y}, [=](Plan& p) -> absl::Status {
        ASSIGN_OR_RETURN(AccuracyResult result,
                         accuracy->Forward(p.tensor(logits), p.tensor(labels)));
        p.tensor(y).data<int32_t>()[0] = static_cast<int32_t>(result.correct);
        return absl::OkStatus();
      });
      return absl::OkStatus();
    }
  }
  return absl::InternalError(absl::StrCat(node.name, ": no CPU lowering for ",
                                          OpTypeName(node.type)));
}

absl::Status PlanBuilder::LowerBackward(const BackwardStep& step) {
  const Node& node = graph_.graph.nodes[step.node];
  const std::vector<ValueId>& in = node.inputs;
  const std::vector<ValueId>& grads = step.input_grads;
  const ValueId y = node.outputs[0], dy = step.output_grad;
  void* kernel = node_kernel_[step.node];
  const std::string prefix = node.name + " ";
  // A unary op whose kernel has Backward(dy, dx).
  auto unary = [&](auto* typed) {
    const ValueId dx = grads[0];
    if (dx == kNoValue) return;
    Add(prefix + "backward", true, {dy}, {dx},
        [=](Plan& p) { return typed->Backward(p.tensor(dy), p.tensor(dx)); });
  };
  // Convolution and linear: weights first, so the bucket is ready while the data gradient runs.
  auto weighted = [&](auto* layer, ValueId gradient) {
    const ValueId x = in[0], w = in[1];
    const ValueId dw = grads[1], db = in.size() > 2 ? grads[2] : kNoValue, dx = grads[0];
    Add(prefix + "backward-weights", true, {x, gradient}, Present({dw, db}), [=](Plan& p) {
      return layer->BackwardWeights(p.tensor(x), p.tensor(gradient), p.tensor(dw), Bound(p, db));
    });
    if (dx != kNoValue) {
      Add(prefix + "backward-data", true, {gradient, w}, {dx}, [=](Plan& p) {
        return layer->BackwardData(p.tensor(gradient), p.tensor(w), p.tensor(dx));
      });
    }
  };
  switch (node.type) {
    case OpType::kConv2d: {
      auto* conv = static_cast<cpu::Conv2dCpu*>(kernel);
      ValueId gradient = dy;
      if (conv->attrs().fuse_relu) {
        gradient = NewValue(node.name + "/pre_relu_grad", shape(y), DType::kF32,
                            ValueRole::kGradient, y);
        Add(prefix + "relu-backward", true, {y, dy}, {gradient}, [=](Plan& p) {
          return conv->FusedReluBackward(p.tensor(y), p.tensor(dy), p.tensor(gradient));
        });
      }
      weighted(conv, gradient);
      return absl::OkStatus();
    }
    case OpType::kLinear:
      weighted(static_cast<cpu::LinearCpu*>(kernel), dy);
      return absl::OkStatus();
    case OpType::kBatchNorm2d: {
      auto* bn = static_cast<cpu::BatchNorm2dCpu*>(kernel);
      const ValueId x = in[0], gamma = in[1], mean = node.outputs[1], var = node.outputs[2];
      ValueId dx = grads[0];
      if (dx == kNoValue) {
        dx = NewValue(node.name + "/unused_input_grad", shape(x), DType::kF32,
                      ValueRole::kGradient, x);
      }
      const ValueId dgamma = grads[1], dbeta = grads[2];
      Add(prefix + "backward", true, {x, gamma, mean, var, dy}, {dx, dgamma, dbeta},
          [=](Plan& p) {
            return bn->Backward(p.tensor(x), p.tensor(gamma), p.tensor(mean), p.tensor(var),
                                p.tensor(dy), p.tensor(dx), p.tensor(dgamma), p.tensor(dbeta));
          });
      return absl::OkStatus();
    }
    case OpType::kRelu: {
      auto* relu = static_cast<cpu::ReluCpu*>(kernel);
      const ValueId dx = grads[0];
      Add(prefix + "backward", true, {y, dy}, {dx},
          [=](Plan& p) { return relu->Backward(p.tensor(y), p.tensor(dy), p.tensor(dx)); });
      return absl::OkStatus();
    }
    case OpType::kMaxPool2d: {
      auto* pool = static_cast<cpu::MaxPool2dCpu*>(kernel);
      const ValueId dx = grads[0], workspace = node_saved_[step.node];
      Add(prefix + "backward", true, {dy, workspace}, {dx}, [=](Plan& p) {
        return pool->Backward(p.tensor(dy), p.tensor(workspace), p.tensor(dx));
      });
      return absl::OkStatus();
    }
    case OpType::kAvgPool2d: unary(static_cast<cpu::AvgPool2dCpu*>(kernel)); return absl::OkStatus();
    case OpType::kGlobalAvgPool:
      unary(static_cast<cpu::GlobalAvgPoolCpu*>(kernel));
      return absl::OkStatus();
    case OpType::kShortcutPad:
      unary(static_cast<cpu::ShortcutPadCpu*>(kernel));
      return absl::OkStatus();
    case OpType::kAdd: {
      auto* add = static_cast<cpu::AddCpu*>(kernel);
      if (!std::get<AddAttrs>(node.attrs).fuse_relu) return absl::OkStatus();  // dy passes through
      const ValueId dx = grads[0] != kNoValue ? grads[0] : grads[1];
      Add(prefix + "backward", true, {y, dy}, {dx},
          [=](Plan& p) { return add->Backward(p.tensor(y), p.tensor(dy), p.tensor(dx)); });
      return absl::OkStatus();
    }
    case OpType::kFlatten: return absl::OkStatus();  // dx is a view of dy
    case OpType::kDropout: {
      auto* dropout = static_cast<cpu::DropoutCpu*>(kernel);
      const ValueId dx = grads[0];
      Add(prefix + "backward", true, {dy}, {dx}, [=](Plan& p) {
        return dropout->Backward(p.tensor(dy), p.dropout_key(), p.tensor(dx));
      });
      return absl::OkStatus();
    }
    case OpType::kSoftmaxCrossEntropy: {
      auto* loss = static_cast<cpu::SoftmaxCrossEntropyCpu*>(kernel);
      const ValueId log_probs = node_saved_[step.node], labels = in[1], dlogits = grads[0];
      Add(prefix + "backward", true, {log_probs, labels, dy}, {dlogits}, [=](Plan& p) {
        return loss->Backward(p.tensor(log_probs), p.tensor(labels), p.tensor(dy),
                              p.tensor(dlogits));
      });
      return absl::OkStatus();
    }
    case OpType::kAccuracy: return absl::OkStatus();
  }
  return absl::InternalError(absl::StrCat(node.name, ": no CPU backward for ",
                                          OpTypeName(node.type)));
}

absl::Status PlanBuilder::LowerSum(const GradientSum& sum) {
  const int64_t length = shape(sum.total).num_elements();
  ASSIGN_OR_RETURN(std::unique_ptr<cpu::WeightedSumCpu> made,
                   cpu::WeightedSumCpu::Create(static_cast<int>(sum.parts.size()), length));
  cpu::WeightedSumCpu* kernel = Own(std::move(made));
  const std::vector<float> ones(sum.parts.size(), 1.0f);
  const std::vector<ValueId> parts = sum.parts;
  const ValueId total = sum.total;
  Add(values_[total].name + " sum", true, parts, {total},
      [=, spans = std::vector<std::span<const float>>(parts.size())](Plan& p) mutable {
        for (size_t i = 0; i < parts.size(); ++i) spans[i] = p.tensor(parts[i]).values<float>();
        return kernel->Run(ones, spans, p.tensor(total).values<float>());
      });
  return absl::OkStatus();
}

void PlanBuilder::MarkBucketsReady() {
  MarkBucketSignals(store_.buckets(), graph_.grad, plan_->launches_);
  plan_->num_buckets_ = static_cast<int>(store_.buckets().size());
}

absl::Status PlanBuilder::Bind() {
  const ModelGraph& graph = graph_.graph;
  Plan& plan = *plan_;
  plan.input_ = graph.input;
  plan.labels_ = graph.labels;
  plan.loss_ = graph.loss;
  plan.correct_ = graph.correct;
  plan.logits_ = graph.logits;
  plan.loss_grad_ = plan.training_ ? graph_.loss_grad : kNoValue;

  auto storage = [&](ValueId v) {
    while (alias_of_[v] != v) v = alias_of_[v];
    return v;
  };
  const int end = static_cast<int>(plan.launches_.size());
  std::vector<int> first(values_.size(), -1), last(values_.size(), -1);
  auto touch = [&](ValueId v, int step) {
    const ValueId root = storage(v);
    if (first[root] < 0) first[root] = step;
    first[root] = std::min(first[root], step);
    last[root] = std::max(last[root], step);
  };
  for (int i = 0; i < end; ++i) {
    for (ValueId v : plan.launches_[i].reads) touch(v, i);
    for (ValueId v : plan.launches_[i].writes) touch(v, i);
  }
  // The batch is written before the first launch and kept intact for the whole step (so a
  // batch can be run again, as evaluation and gradient checks do); results are read after it.
  for (ValueId v : {plan.input_, plan.labels_}) {
    touch(v, 0);
    touch(v, end);
  }
  for (ValueId v : {plan.loss_, plan.correct_, plan.logits_}) touch(v, end);
  if (plan.loss_grad_ != kNoValue) {
    touch(plan.loss_grad_, 0);
    touch(plan.loss_grad_, end);
  }

  std::vector<ValueId> arena_values;
  std::vector<BufferLifetime> lifetimes;
  for (size_t v = 0; v < values_.size(); ++v) {
    const ValueId id = static_cast<ValueId>(v);
    if (storage(id) != id || first[v] < 0 || HeldByStore(values_[v])) continue;
    arena_values.push_back(id);
    lifetimes.push_back({values_[v].name,
                         static_cast<size_t>(values_[v].shape.num_elements()) *
                             DTypeSize(values_[v].dtype),
                         first[v], last[v]});
  }
  ASSIGN_OR_RETURN(MemoryPlan memory, PlanMemory(lifetimes));
  RETURN_IF_ERROR(VerifyMemoryPlan(lifetimes, memory));
  plan.arena_bytes_ = memory.arena_bytes;
  plan.peak_live_bytes_ = memory.peak_live_bytes;
  ASSIGN_OR_RETURN(plan.arena_, Tensor::Create(Shape{static_cast<int64_t>(
                                                   (memory.arena_bytes + 3) / 4)}));

  for (size_t i = 0; i < arena_values.size(); ++i) {
    plan.arena_buffers_.push_back({lifetimes[i].name, memory.offsets[i], lifetimes[i].bytes,
                                   lifetimes[i].first_step, lifetimes[i].last_step});
  }
  plan.tensors_.resize(values_.size());
  char* base = static_cast<char*>(plan.arena_.raw_data());
  std::vector<char*> address(values_.size(), nullptr);
  for (size_t i = 0; i < arena_values.size(); ++i) {
    address[arena_values[i]] = base + memory.offsets[i];
  }
  for (size_t v = 0; v < values_.size(); ++v) {
    const ValueId id = static_cast<ValueId>(v);
    if (HeldByStore(values_[v])) {
      if (!store_.Holds(id)) continue;  // a gradient an inference plan never touches
      plan.tensors_[v] = store_.View(id);
      continue;
    }
    const ValueId root = storage(id);
    if (address[root] == nullptr) continue;  // never touched by this plan
    const size_t bytes =
        static_cast<size_t>(values_[v].shape.num_elements()) * DTypeSize(values_[v].dtype);
    ASSIGN_OR_RETURN(plan.tensors_[v],
                     Tensor::Wrap(address[root], bytes, values_[v].shape, values_[v].dtype));
  }
  plan.elapsed_us_.assign(plan.launches_.size(), 0.0);
  for (size_t i = 0; i < plan.launches_.size(); ++i) {
    const std::vector<ValueId>& writes = plan.launches_[i].writes;
    if (std::find(writes.begin(), writes.end(), plan.loss_) != writes.end()) {
      plan.loss_launch_ = static_cast<int>(i);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Plan>> PlanBuilder::Finish() {
  RETURN_IF_ERROR(Bind());
  if (plan_->training_) MarkBucketsReady();
  return std::move(plan_);
}

}  // namespace ald
