// PlanBuilder: the schedule lowered through the table of op lowerings (graph/lowering/), then
// the arena plan and the binding of every value to its buffer.
#include "graph/lowering.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "graph/bucket_signals.h"
#include "graph/layout_pass.h"
#include "graph/memory_plan.h"
#include "ops/cpu/gradient_sum.h"
#include "ops/mixing.h"

namespace ald {

PlanBuilder::PlanBuilder(const TrainingGraph& graph, ParameterStore& store, bool training,
                         bool blocked_layouts, Precision precision)
    // Plan's constructor is private (only lowering makes plans), so no make_unique.
    : LoweringBase(graph, std::unique_ptr<Plan>(new Plan())),
      store_(store),
      // bf16 (NHWC) runs only where AVX-512 is; f32 blocks channels as the CPU's kernels do.
      blocked_layout_(precision == Precision::kBF16 ? cpu::ActivationLayout::kChannelsLast
                                                    : cpu::NativeBlockedLayout()),
      blocked_(blocked_layouts ? ChooseBlockedLayouts(graph, blocked_layout_)
                               : std::vector<bool>(graph.graph.values.size(), false)) {
  plan_->training_ = training;
}

ValueId PlanBuilder::NewValue(const std::string& name, const Shape& shape, DType dtype,
                              ValueRole role, ValueId like) {
  blocked_.push_back(like != kNoValue && blocked_[like]);
  return AppendValue(name, shape, dtype, role);
}

absl::Status PlanBuilder::LowerSum(const GradientSum& sum) {
  const int64_t length = shape(sum.total).num_elements();
  if (values_[sum.total].dtype != DType::kF32) return LowerLowPrecisionSum(sum);
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

absl::Status PlanBuilder::LowerLowPrecisionSum(const GradientSum& sum) {
  const ValueInfo& total_info = values_[sum.total];
  ASSIGN_OR_RETURN(std::unique_ptr<cpu::GradientSumCpu> made,
                   cpu::GradientSumCpu::Create(static_cast<int>(sum.parts.size()),
                                               total_info.shape.num_elements(), total_info.dtype));
  cpu::GradientSumCpu* kernel = Own(std::move(made));
  const std::vector<ValueId> parts = sum.parts;
  const ValueId total = sum.total;
  Add(total_info.name + " sum", true, parts, {total},
      [=, tensors = std::vector<const Tensor*>(parts.size())](Plan& p) mutable {
        for (size_t i = 0; i < parts.size(); ++i) tensors[i] = &p.tensor(parts[i]);
        return kernel->Run(tensors, p.tensor(total));
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

  // The batch is written before the first launch and kept intact for the whole step (so a
  // batch can be run again, as evaluation and gradient checks do); results are read after it.
  LivenessInput liveness = ArenaLiveness();
  liveness.whole_step = {plan.input_, plan.labels_, plan.loss_grad_};
  liveness.read_after = {plan.loss_, plan.correct_, plan.logits_};
  liveness.in_arena = [&](ValueId v) { return !HeldByStore(values_[v]); };
  ASSIGN_OR_RETURN(ArenaPlan arena, PlanArena(liveness));
  const MemoryPlan& memory = arena.memory;
  plan.arena_bytes_ = memory.arena_bytes;
  plan.peak_live_bytes_ = memory.peak_live_bytes;
  ASSIGN_OR_RETURN(plan.arena_, Tensor::Create(Shape{static_cast<int64_t>(
                                                   (memory.arena_bytes + 3) / 4)}));

  for (size_t i = 0; i < arena.values.size(); ++i) {
    const BufferLifetime& buffer = arena.buffers[i];
    plan.arena_buffers_.push_back(
        {buffer.name, memory.offsets[i], buffer.bytes, buffer.first_step, buffer.last_step});
  }
  plan.tensors_.resize(values_.size());
  char* base = static_cast<char*>(plan.arena_.raw_data());
  std::vector<char*> address(values_.size(), nullptr);
  for (size_t i = 0; i < arena.values.size(); ++i) {
    address[arena.values[i]] = base + memory.offsets[i];
  }
  for (size_t v = 0; v < values_.size(); ++v) {
    const ValueId id = static_cast<ValueId>(v);
    if (HeldByStore(values_[v])) {
      if (!store_.Holds(id)) continue;  // a gradient an inference plan never touches
      plan.tensors_[v] = store_.View(id);
      continue;
    }
    const ValueId root = StorageOf(alias_of_, id);
    if (address[root] == nullptr) continue;  // never touched by this plan
    ASSIGN_OR_RETURN(plan.tensors_[v], Tensor::Wrap(address[root], ValueBytes(id),
                                                    values_[v].shape, values_[v].dtype));
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
