// PlanBuilder: the schedule lowered through the table of op lowerings (graph/lowering/), then
// the arena plan and the binding of every value to its buffer.
#include "graph/lowering.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "graph/bucket_signals.h"
#include "graph/layout_pass.h"
#include "graph/memory_plan.h"
#include "ops/mixing.h"

namespace ald {

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
