// CudaPlanBuilder: each schedule entry to ops/cuda launches, mirroring graph/lowering.cc, then
// the arena plan and the binding of every value to a device address.
#include "graph/cuda/cuda_lowering.h"

#include <algorithm>
#include <initializer_list>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "graph/bucket_signals.h"
#include "graph/schedule_walk.h"
#include "graph/cuda/step_metrics.h"
#include "graph/memory_plan.h"
#include "ops/cuda/add.h"
#include "ops/cuda/batchnorm2d.h"
#include "ops/cuda/conv2d.h"
#include "ops/cuda/cuda_status.h"
#include "ops/cuda/dropout.h"
#include "ops/cuda/linear.h"
#include "ops/cuda/mixing.h"
#include "ops/cuda/pooling.h"
#include "ops/cuda/relu.h"
#include "ops/cuda/shortcut_pad.h"
#include "ops/cuda/softmax_cross_entropy.h"

namespace ald::cuda {
namespace {

}  // namespace

CudaPlanBuilder::CudaPlanBuilder(const TrainingGraph& graph, std::unique_ptr<CudaPlan> plan,
                                 bool training)
    : LoweringBase(graph, std::move(plan)), training_(training) {
  // Sized once every convolution is known (Bind); one slot serves them all, since launches on
  // one stream never run concurrently.
  workspace_ = NewValue("cuda/conv_workspace", Shape{1}, DType::kF32, ValueRole::kSaved);
}

absl::Status CudaPlanBuilder::LowerForward(int index) {
  const Node& node = graph_.graph.nodes[index];
  const std::vector<ValueId>& in = node.inputs;
  const ValueId y = node.outputs[0];
  const bool training = training_;
  const CudaHandles& handles = *plan_->handles_;
  const std::string name = absl::StrCat(node.name, " forward");
  auto fail = [&](const absl::Status& status) {
    return absl::Status(status.code(), absl::StrCat(node.name, ": ", status.message()));
  };
  switch (node.type) {
    case OpType::kConv2d: {
      absl::StatusOr<std::unique_ptr<Conv2dCuda>> made = Conv2dCuda::Create(
          handles, shape(in[0]), shape(in[1]), std::get<Conv2dAttrs>(node.attrs));
      if (!made.ok()) return fail(made.status());
      Conv2dCuda* conv = Own(*std::move(made));
      node_kernel_[index] = conv;
      workspace_bytes_ = std::max(workspace_bytes_, conv->workspace_bytes());
      const ValueId x = in[0], w = in[1], b = in.size() > 2 ? in[2] : kNoValue, ws = workspace_;
      Add(name, false, Present({x, w, b}), {y, ws}, [=](CudaPlan& p) {
        return conv->Forward(p.ptr<float>(x), p.ptr<float>(w), p.ptr<float>(b), p.ptr<float>(y),
                             p.workspace(), p.workspace_bytes());
      });
      return absl::OkStatus();
    }
    case OpType::kLinear: {
      absl::StatusOr<std::unique_ptr<LinearCuda>> made = LinearCuda::Create(
          handles, shape(in[0]), shape(in[1]), std::get<LinearAttrs>(node.attrs));
      if (!made.ok()) return fail(made.status());
      LinearCuda* linear = Own(*std::move(made));
      node_kernel_[index] = linear;
      const ValueId x = in[0], w = in[1], b = in.size() > 2 ? in[2] : kNoValue;
      Add(name, false, Present({x, w, b}), {y}, [=](CudaPlan& p) {
        return linear->Forward(p.ptr<float>(x), p.ptr<float>(w), p.ptr<float>(b),
                               p.ptr<float>(y));
      });
      return absl::OkStatus();
    }
    case OpType::kBatchNorm2d: {
      absl::StatusOr<std::unique_ptr<BatchNorm2dCuda>> made =
          BatchNorm2dCuda::Create(handles, shape(in[0]), std::get<BatchNorm2dAttrs>(node.attrs));
      if (!made.ok()) return fail(made.status());
      BatchNorm2dCuda* bn = Own(*std::move(made));
      node_kernel_[index] = bn;
      const ValueId x = in[0], gamma = in[1], beta = in[2], rmean = in[3], rvar = in[4];
      // The graph's saved variance slot holds cuDNN's inverse standard deviation (same [C]
      // shape); only this node's backward reads it.
      const ValueId mean = node.outputs[1], inv_std = node.outputs[2];
      if (training) {
        Add(name, false, {x, gamma, beta}, {y, mean, inv_std}, [=](CudaPlan& p) {
          return bn->ForwardTraining(p.ptr<float>(x), p.ptr<float>(gamma), p.ptr<float>(beta),
                                     p.ptr<float>(y), p.ptr<float>(mean), p.ptr<float>(inv_std),
                                     p.ptr<float>(rmean), p.ptr<float>(rvar));
        });
      } else {
        Add(name, false, {x, gamma, beta}, {y}, [=](CudaPlan& p) {
          return bn->ForwardInference(p.ptr<float>(x), p.ptr<float>(gamma), p.ptr<float>(beta),
                                      p.ptr<float>(rmean), p.ptr<float>(rvar), p.ptr<float>(y));
        });
      }
      return absl::OkStatus();
    }
    case OpType::kRelu: {
      absl::StatusOr<std::unique_ptr<ReluCuda>> made = ReluCuda::Create(handles, shape(in[0]));
      if (!made.ok()) return fail(made.status());
      ReluCuda* relu = Own(*std::move(made));
      node_kernel_[index] = relu;
      const ValueId x = in[0];
      Add(name, false, {x}, {y},
          [=](CudaPlan& p) { return relu->Forward(p.ptr<float>(x), p.ptr<float>(y)); });
      return absl::OkStatus();
    }
    case OpType::kMaxPool2d:
    case OpType::kAvgPool2d:
    case OpType::kGlobalAvgPool: {
      // cuDNN's pooling backward finds max winners again from x and y, so no workspace value
      // (the CPU's maxpool keeps one); the backward reads x and y instead.
      absl::StatusOr<std::unique_ptr<Pool2dCuda>> made =
          node.type == OpType::kMaxPool2d
              ? Pool2dCuda::CreateMax(handles, shape(in[0]), std::get<Pool2dWindow>(node.attrs))
          : node.type == OpType::kAvgPool2d
              ? Pool2dCuda::CreateAvg(handles, shape(in[0]), std::get<AvgPool2dAttrs>(node.attrs))
              : Pool2dCuda::CreateGlobalAvg(handles, shape(in[0]));
      if (!made.ok()) return fail(made.status());
      Pool2dCuda* pool = Own(*std::move(made));
      node_kernel_[index] = pool;
      const ValueId x = in[0];
      Add(name, false, {x}, {y},
          [=](CudaPlan& p) { return pool->Forward(p.ptr<float>(x), p.ptr<float>(y)); });
      return absl::OkStatus();
    }
    case OpType::kShortcutPad: {
      absl::StatusOr<std::unique_ptr<ShortcutPadCuda>> made = ShortcutPadCuda::Create(
          handles, shape(in[0]), std::get<ShortcutPadAttrs>(node.attrs));
      if (!made.ok()) return fail(made.status());
      ShortcutPadCuda* pad = Own(*std::move(made));
      node_kernel_[index] = pad;
      const ValueId x = in[0];
      Add(name, false, {x}, {y},
          [=](CudaPlan& p) { return pad->Forward(p.ptr<float>(x), p.ptr<float>(y)); });
      return absl::OkStatus();
    }
    case OpType::kAdd: {
      absl::StatusOr<std::unique_ptr<AddCuda>> made =
          AddCuda::Create(handles, shape(in[0]), shape(in[1]), std::get<AddAttrs>(node.attrs));
      if (!made.ok()) return fail(made.status());
      AddCuda* add = Own(*std::move(made));
      node_kernel_[index] = add;
      const ValueId a = in[0], b = in[1];
      // y never shares a's or b's memory: both are live at this launch, so the planner gives y
      // its own slot (AddCuda requires that).
      Add(name, false, {a, b}, {y}, [=](CudaPlan& p) {
        return add->Forward(p.ptr<float>(a), p.ptr<float>(b), p.ptr<float>(y));
      });
      return absl::OkStatus();
    }
    case OpType::kFlatten:
      alias_of_[y] = in[0];  // a view: no launch
      return absl::OkStatus();
    case OpType::kDropout: {
      absl::StatusOr<std::unique_ptr<DropoutCuda>> made =
          DropoutCuda::Create(handles, shape(in[0]), std::get<DropoutAttrs>(node.attrs));
      if (!made.ok()) return fail(made.status());
      DropoutCuda* dropout = Own(*std::move(made));
      node_kernel_[index] = dropout;
      const ValueId x = in[0];
      Add(name, false, {x}, {y}, [=](CudaPlan& p) {
        return training ? dropout->Forward(p.ptr<float>(x), p.dropout_key(), p.ptr<float>(y))
                        : dropout->ForwardInference(p.ptr<float>(x), p.ptr<float>(y));
      });
      return absl::OkStatus();
    }
    case OpType::kSoftmaxCrossEntropy: {
      const ValueId logits = in[0], labels = in[1];
      absl::StatusOr<std::unique_ptr<LossForwardCuda>> forward =
          LossForwardCuda::Create(handles, shape(logits), shape(labels));
      if (!forward.ok()) return fail(forward.status());
      absl::StatusOr<std::unique_ptr<SoftmaxCrossEntropyCuda>> backward =
          SoftmaxCrossEntropyCuda::Create(handles, shape(logits), shape(labels));
      if (!backward.ok()) return fail(backward.status());
      LossForwardCuda* loss = Own(*std::move(forward));
      node_kernel_[index] = Own(*std::move(backward));
      plan_->classes_ = loss->classes();
      const ValueId log_probs =
          NewValue(node.name + "/log_probs", shape(logits), DType::kF32, ValueRole::kSaved);
      node_saved_[index] = log_probs;
      // The loss goes straight to the step's results block (read back once, at the end).
      Add(name, false, {logits, labels}, {log_probs, y}, [=](CudaPlan& p) {
        StepResults* results = p.device_results();
        return loss->Forward(p.ptr<float>(logits), p.ptr<int32_t>(labels), p.ptr<float>(log_probs),
                             &results->loss, &results->loss_bad_row);
      });
      return absl::OkStatus();
    }
    case OpType::kAccuracy: {
      const ValueId logits = in[0], labels = in[1];
      absl::StatusOr<std::unique_ptr<AccuracyCountCuda>> made =
          AccuracyCountCuda::Create(handles, shape(logits), shape(labels));
      if (!made.ok()) return fail(made.status());
      AccuracyCountCuda* accuracy = Own(*std::move(made));
      plan_->classes_ = shape(logits)[1];
      Add(name, false, {logits, labels}, {y}, [=](CudaPlan& p) {
        StepResults* results = p.device_results();
        return accuracy->Count(p.ptr<float>(logits), p.ptr<int32_t>(labels), &results->correct,
                               &results->accuracy_bad_row);
      });
      return absl::OkStatus();
    }
  }
  return absl::UnimplementedError(
      absl::StrCat(node.name, ": no CUDA kernel for ", OpTypeName(node.type)));
}

absl::Status CudaPlanBuilder::LowerBackward(const BackwardStep& step) {
  const Node& node = graph_.graph.nodes[step.node];
  const std::vector<ValueId>& in = node.inputs;
  const std::vector<ValueId>& grads = step.input_grads;
  const ValueId y = node.outputs[0], dy = step.output_grad;
  void* kernel = node_kernel_[step.node];
  const std::string prefix = node.name + " ";
  if (kernel == nullptr && node.type != OpType::kFlatten && node.type != OpType::kAccuracy) {
    return absl::InternalError(
        absl::StrCat(node.name, ": backward of ", OpTypeName(node.type), " before its forward"));
  }
  // The gradient w.r.t. a fused ReLU's input: a value of its own (dy may be shared by another
  // reader of y, so it is not masked in place), as the CPU lowering does.
  auto fused_relu_gradient = [&](auto* layer) {
    const ValueId gradient =
        NewValue(node.name + "/pre_relu_grad", shape(y), DType::kF32, ValueRole::kGradient);
    Add(prefix + "relu-backward", true, {y, dy}, {gradient}, [=](CudaPlan& p) {
      return layer->FusedReluBackward(p.ptr<float>(y), p.ptr<float>(dy), p.ptr<float>(gradient));
    });
    return gradient;
  };
  const ValueId x = in.empty() ? kNoValue : in[0];
  const ValueId dx = grads.empty() ? kNoValue : grads[0];
  switch (node.type) {
    case OpType::kConv2d: {
      auto* conv = static_cast<Conv2dCuda*>(kernel);
      const ValueId gradient = conv->attrs().fuse_relu ? fused_relu_gradient(conv) : dy;
      // Weights first, so the bucket is ready while the data gradient runs.
      const ValueId w = in[1], dw = grads[1], db = in.size() > 2 ? grads[2] : kNoValue;
      const ValueId ws = workspace_;
      Add(prefix + "backward-weights", true, {x, gradient}, Present({dw, db, ws}),
          [=](CudaPlan& p) {
            return conv->BackwardWeights(p.ptr<float>(x), p.ptr<float>(gradient),
                                         p.ptr<float>(dw), p.ptr<float>(db), p.workspace(),
                                         p.workspace_bytes());
          });
      if (dx != kNoValue) {
        Add(prefix + "backward-data", true, {gradient, w}, {dx, ws}, [=](CudaPlan& p) {
          return conv->BackwardData(p.ptr<float>(gradient), p.ptr<float>(w), p.ptr<float>(dx),
                                    p.workspace(), p.workspace_bytes());
        });
      }
      return absl::OkStatus();
    }
    case OpType::kLinear: {
      auto* linear = static_cast<LinearCuda*>(kernel);
      const ValueId w = in[1], dw = grads[1], db = in.size() > 2 ? grads[2] : kNoValue;
      Add(prefix + "backward-weights", true, {x, dy}, Present({dw, db}), [=](CudaPlan& p) {
        return linear->BackwardWeights(p.ptr<float>(x), p.ptr<float>(dy), p.ptr<float>(dw),
                                       p.ptr<float>(db));
      });
      if (dx != kNoValue) {
        Add(prefix + "backward-data", true, {dy, w}, {dx}, [=](CudaPlan& p) {
          return linear->BackwardData(p.ptr<float>(dy), p.ptr<float>(w), p.ptr<float>(dx));
        });
      }
      return absl::OkStatus();
    }
    case OpType::kBatchNorm2d: {
      auto* bn = static_cast<BatchNorm2dCuda*>(kernel);
      const ValueId gradient = bn->attrs().fuse_relu ? fused_relu_gradient(bn) : dy;
      const ValueId gamma = in[1], mean = node.outputs[1], inv_std = node.outputs[2];
      // cuDNN always writes dx: give it a slot when nothing needs it (the first layer's input).
      const ValueId data_grad =
          dx != kNoValue ? dx
                         : NewValue(node.name + "/unused_input_grad", shape(x), DType::kF32,
                                    ValueRole::kGradient);
      const ValueId dgamma = grads[1], dbeta = grads[2];
      Add(prefix + "backward", true, {x, gamma, mean, inv_std, gradient},
          {data_grad, dgamma, dbeta}, [=](CudaPlan& p) {
            return bn->Backward(p.ptr<float>(x), p.ptr<float>(gamma), p.ptr<float>(mean),
                                p.ptr<float>(inv_std), p.ptr<float>(gradient),
                                p.ptr<float>(data_grad), p.ptr<float>(dgamma),
                                p.ptr<float>(dbeta));
          });
      return absl::OkStatus();
    }
    case OpType::kRelu: {
      if (dx == kNoValue) return absl::OkStatus();
      auto* relu = static_cast<ReluCuda*>(kernel);
      Add(prefix + "backward", true, {y, dy}, {dx}, [=](CudaPlan& p) {
        return relu->Backward(p.ptr<float>(y), p.ptr<float>(dy), p.ptr<float>(dx));
      });
      return absl::OkStatus();
    }
    case OpType::kMaxPool2d:
    case OpType::kAvgPool2d:
    case OpType::kGlobalAvgPool: {
      if (dx == kNoValue) return absl::OkStatus();
      auto* pool = static_cast<Pool2dCuda*>(kernel);
      Add(prefix + "backward", true, {x, y, dy}, {dx}, [=](CudaPlan& p) {
        return pool->Backward(p.ptr<float>(x), p.ptr<float>(y), p.ptr<float>(dy),
                              p.ptr<float>(dx));
      });
      return absl::OkStatus();
    }
    case OpType::kShortcutPad: {
      if (dx == kNoValue) return absl::OkStatus();
      auto* pad = static_cast<ShortcutPadCuda*>(kernel);
      Add(prefix + "backward", true, {dy}, {dx},
          [=](CudaPlan& p) { return pad->Backward(p.ptr<float>(dy), p.ptr<float>(dx)); });
      return absl::OkStatus();
    }
    case OpType::kAdd: {
      auto* add = static_cast<AddCuda*>(kernel);
      if (!add->attrs().fuse_relu) return absl::OkStatus();  // both inputs' gradient is dy
      const ValueId shared = grads[0] != kNoValue ? grads[0] : grads[1];
      if (shared == kNoValue) return absl::OkStatus();
      Add(prefix + "backward", true, {y, dy}, {shared}, [=](CudaPlan& p) {
        return add->Backward(p.ptr<float>(y), p.ptr<float>(dy), p.ptr<float>(shared));
      });
      return absl::OkStatus();
    }
    case OpType::kFlatten: return absl::OkStatus();  // dx is a view of dy
    case OpType::kDropout: {
      if (dx == kNoValue) return absl::OkStatus();
      auto* dropout = static_cast<DropoutCuda*>(kernel);
      Add(prefix + "backward", true, {dy}, {dx}, [=](CudaPlan& p) {
        return dropout->Backward(p.ptr<float>(dy), p.dropout_key(), p.ptr<float>(dx));
      });
      return absl::OkStatus();
    }
    case OpType::kSoftmaxCrossEntropy: {
      if (dx == kNoValue) return absl::OkStatus();
      auto* loss = static_cast<SoftmaxCrossEntropyCuda*>(kernel);
      const ValueId log_probs = node_saved_[step.node], labels = in[1];
      // d loss / d loss is 1 (the CPU plan reads it from the loss-gradient value, which it sets
      // to 1 every step); a constant here keeps the device free of that one-float buffer.
      Add(prefix + "backward", true, {log_probs, labels}, {dx}, [=](CudaPlan& p) {
        return loss->Backward(p.ptr<float>(log_probs), p.ptr<int32_t>(labels), 1.0f,
                              p.ptr<float>(dx));
      });
      return absl::OkStatus();
    }
    case OpType::kAccuracy: return absl::OkStatus();
  }
  return absl::UnimplementedError(
      absl::StrCat(node.name, ": no CUDA backward for ", OpTypeName(node.type)));
}

absl::Status CudaPlanBuilder::LowerSum(const GradientSum& sum) {
  if (sum.parts.empty() || sum.parts.size() > static_cast<size_t>(kernels::kMaxWeightedSumInputs)) {
    return absl::UnimplementedError(
        absl::StrCat(values_[sum.total].name, ": a gradient sum of ", sum.parts.size(),
                     " parts (the CUDA kernel takes 1 to ", kernels::kMaxWeightedSumInputs, ")"));
  }
  const int64_t length = shape(sum.total).num_elements();
  const std::vector<float> ones(sum.parts.size(), 1.0f);
  const std::vector<ValueId> parts = sum.parts;
  const ValueId total = sum.total;
  // The pointer table is filled at run time from the bound addresses; captured so that a step
  // does not allocate.
  Add(values_[total].name + " sum", true, parts, {total},
      [=, inputs = std::vector<const float*>(parts.size())](CudaPlan& p) mutable {
        for (size_t i = 0; i < parts.size(); ++i) inputs[i] = p.ptr<const float>(parts[i]);
        return WeightedSum(ones, inputs, length, p.ptr<float>(total), p.compute_stream());
      });
  return absl::OkStatus();
}

void CudaPlanBuilder::MarkBucketsReady() {
  MarkBucketSignals(plan_->store_->buckets(), graph_.grad, plan_->launches_);
}

absl::Status CudaPlanBuilder::Bind() {
  const ModelGraph& graph = graph_.graph;
  CudaPlan& plan = *plan_;
  plan.input_ = graph.input;
  plan.labels_ = graph.labels;
  if (graph.input != kNoValue) plan.input_count_ = shape(graph.input).num_elements();
  if (graph.labels != kNoValue) plan.label_count_ = shape(graph.labels).num_elements();
  plan.logits_ = graph.logits;
  if (graph.logits != kNoValue) plan.logits_count_ = shape(graph.logits).num_elements();
  // The loss and the correct count live in the results block, not the arena.
  auto in_results = [&](ValueId v) {
    return v != kNoValue && (v == graph.loss || v == graph.correct);
  };

  plan.workspace_bytes_ = workspace_bytes_;
  values_[workspace_].shape = Shape{static_cast<int64_t>(workspace_bytes_ / 4 + 1)};

  auto storage = [&](ValueId v) {
    while (alias_of_[v] != v) v = alias_of_[v];
    return v;
  };
  const int end = static_cast<int>(plan.launches_.size());
  std::vector<int> first(values_.size(), -1), last(values_.size(), -1);
  auto touch = [&](ValueId v, int step) {
    if (v == kNoValue) return;
    const ValueId root = storage(v);
    if (first[root] < 0) first[root] = step;
    first[root] = std::min(first[root], step);
    last[root] = std::max(last[root], step);
  };
  for (int i = 0; i < end; ++i) {
    for (ValueId v : plan.launches_[i].reads) touch(v, i);
    for (ValueId v : plan.launches_[i].writes) touch(v, i);
  }
  // As on the CPU: the batch stays intact for the whole step, the logits are read after it.
  for (ValueId v : {graph.input, graph.labels}) {
    touch(v, 0);
    touch(v, end);
  }
  touch(graph.logits, end);

  std::vector<ValueId> arena_values;
  std::vector<BufferLifetime> lifetimes;
  for (size_t v = 0; v < values_.size(); ++v) {
    const ValueId id = static_cast<ValueId>(v);
    if (storage(id) != id || first[v] < 0 || HeldByStore(values_[v]) || in_results(id)) continue;
    arena_values.push_back(id);
    lifetimes.push_back({values_[v].name,
                         static_cast<size_t>(values_[v].shape.num_elements()) *
                             DTypeSize(values_[v].dtype),
                         first[v], last[v]});
  }
  // 256-byte alignment: what cudaMalloc guarantees, and what cuDNN's vectorised kernels like.
  ASSIGN_OR_RETURN(MemoryPlan memory, PlanMemory(lifetimes, 256));
  RETURN_IF_ERROR(VerifyMemoryPlan(lifetimes, memory));
  plan.arena_bytes_ = memory.arena_bytes;
  plan.peak_live_bytes_ = memory.peak_live_bytes;
  ASSIGN_OR_RETURN(plan.arena_,
                   DeviceBuffer<char>::Create(static_cast<int64_t>(memory.arena_bytes)));
  ++plan.device_allocations_;

  plan.addresses_.assign(values_.size(), nullptr);
  char* base = plan.arena_.data();
  for (size_t i = 0; i < arena_values.size(); ++i) {
    plan.addresses_[arena_values[i]] = base + memory.offsets[i];
  }
  // Parameters and gradients at their ParameterStore offsets, running statistics likewise: the
  // plan's own, or for an evaluation plan its training plan's (which has the same values).
  CudaPlan& state = plan.shared_ != nullptr ? *plan.shared_ : plan;
  ParameterStore& store = *state.store_;
  const float* host_parameters = std::as_const(store).parameters().data();
  const float* host_gradients = store.gradients().data();
  for (ValueId p : store.layout()) {
    const ptrdiff_t offset = store.View(p).data<float>() - host_parameters;
    plan.addresses_[p] = state.parameters_.data() + offset;
    const ValueId g = static_cast<size_t>(p) < graph_.grad.size() ? graph_.grad[p] : kNoValue;
    if (g != kNoValue && store.Holds(g)) {
      plan.addresses_[g] = state.gradients_.data() + (store.View(g).data<float>() - host_gradients);
    }
  }
  for (const auto& [value, offset] : state.running_layout_) {
    plan.addresses_[value] = state.running_.data() + offset;
  }
  if (graph.loss != kNoValue) plan.addresses_[graph.loss] = &plan.device_results_->loss;
  if (graph.correct != kNoValue) plan.addresses_[graph.correct] = &plan.device_results_->correct;
  // Views (flatten) share their storage's address.
  for (size_t v = 0; v < values_.size(); ++v) {
    const ValueId root = storage(static_cast<ValueId>(v));
    if (plan.addresses_[v] == nullptr) plan.addresses_[v] = plan.addresses_[root];
  }
  plan.workspace_ = workspace_;

  // Every buffer a launch names must be bound: a miss here is a lowering bug, reported by name
  // instead of a device fault at run time.
  for (const CudaLaunch& launch : plan.launches_) {
    for (const std::vector<ValueId>* list : {&launch.reads, &launch.writes}) {
      for (ValueId v : *list) {
        if (plan.addresses_[v] == nullptr) {
          return absl::InternalError(absl::StrCat(launch.name, ": value '", values_[v].name,
                                                  "' has no device buffer"));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CudaPlan>> CudaPlanBuilder::Finish() {
  RETURN_IF_ERROR(Bind());
  if (training_) MarkBucketsReady();
  return std::move(plan_);
}

}  // namespace ald::cuda
