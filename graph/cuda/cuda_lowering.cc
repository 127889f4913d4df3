// CudaPlanBuilder: the schedule lowered through the table of op lowerings (graph/cuda/lowering/),
// then the arena plan and the binding of every value to a device address.
#include "graph/cuda/cuda_lowering.h"

#include <algorithm>
#include <initializer_list>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "graph/bucket_signals.h"
#include "graph/memory_plan.h"
#include "ops/cuda/bf16_kernels.h"
#include "ops/cuda/cuda_status.h"
#include "ops/cuda/kernels.h"
#include "ops/cuda/mixing.h"

namespace ald::cuda {

CudaPlanBuilder::CudaPlanBuilder(const TrainingGraph& graph, std::unique_ptr<CudaPlan> plan,
                                 bool training)
    : LoweringBase(graph, std::move(plan)), training_(training) {
  // Sized once every convolution is known (Bind); one slot serves them all, since launches on
  // one stream never run concurrently.
  workspace_ = NewValue("cuda/conv_workspace", Shape{1}, DType::kF32, ValueRole::kSaved);
}

absl::Status CudaPlanBuilder::LowerSum(const GradientSum& sum) {
  const bool bf16 = values_[sum.total].dtype == DType::kBF16;
  const int max_parts = bf16 ? kernels::kMaxBf16SumInputs : kernels::kMaxWeightedSumInputs;
  if (sum.parts.empty() || sum.parts.size() > static_cast<size_t>(max_parts)) {
    return absl::UnimplementedError(absl::StrCat(values_[sum.total].name, ": a gradient sum of ",
                                                 sum.parts.size(),
                                                 " parts (the CUDA kernel takes 1 to ", max_parts,
                                                 ")"));
  }
  const int64_t length = shape(sum.total).num_elements();
  const std::vector<ValueId> parts = sum.parts;
  const ValueId total = sum.total;
  // The pointer table is filled at run time from the bound addresses; captured so that a step
  // does not allocate. bf16 gradients (those of a value that several bf16 layers read) are
  // summed in float and rounded once.
  if (bf16) {
    Add(values_[total].name + " sum", true, parts, {total},
        [=, inputs = std::vector<const BFloat16*>(parts.size())](CudaPlan& p) mutable {
          for (size_t i = 0; i < parts.size(); ++i) inputs[i] = p.ptr<const BFloat16>(parts[i]);
          return CudaStatus(kernels::SumBf16(static_cast<int>(parts.size()), inputs.data(),
                                             length, p.ptr<BFloat16>(total), p.compute_stream()),
                            "SumBf16");
        });
    return absl::OkStatus();
  }
  const std::vector<float> ones(sum.parts.size(), 1.0f);
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

  // As on the CPU: the batch stays intact for the whole step, the logits are read after it.
  LivenessInput liveness = ArenaLiveness();
  liveness.whole_step = {graph.input, graph.labels};
  liveness.read_after = {graph.logits};
  liveness.in_arena = [&](ValueId v) { return !HeldByStore(values_[v]) && !in_results(v); };
  // 256-byte alignment: what cudaMalloc guarantees, and what cuDNN's vectorised kernels like.
  ASSIGN_OR_RETURN(ArenaPlan arena, PlanArena(liveness, 256));
  const MemoryPlan& memory = arena.memory;
  plan.arena_bytes_ = memory.arena_bytes;
  plan.peak_live_bytes_ = memory.peak_live_bytes;
  ASSIGN_OR_RETURN(plan.arena_,
                   DeviceBuffer<char>::Create(static_cast<int64_t>(memory.arena_bytes)));
  ++plan.device_allocations_;

  plan.addresses_.assign(values_.size(), nullptr);
  char* base = plan.arena_.data();
  for (size_t i = 0; i < arena.values.size(); ++i) {
    plan.addresses_[arena.values[i]] = base + memory.offsets[i];
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
    const ValueId root = StorageOf(alias_of_, static_cast<ValueId>(v));
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
