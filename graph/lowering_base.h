// What every backend's lowering shares (graph/lowering.h on oneDNN, graph/cuda/cuda_lowering.h
// on CUDA): the value table that lowering extends, the launches and kernels of the plan being
// built, and the walk over the schedule. A lowering derives from LoweringBase with its own plan
// type and supplies LowerForward, LowerBackward and LowerSum.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "graph/autodiff.h"
#include "graph/schedule_walk.h"

namespace ald {

// The values of `values` that exist (an absent bias or gradient is kNoValue).
inline std::vector<ValueId> Present(std::initializer_list<ValueId> values) {
  std::vector<ValueId> present;
  for (ValueId v : values) {
    if (v != kNoValue) present.push_back(v);
  }
  return present;
}

// Parameters, their gradients and running statistics live in the parameter store (or its
// device buffers); everything else in the arena. By role, not by id: an evaluation plan adds
// values of its own whose ids the training graph used for gradients.
inline bool HeldByStore(const ValueInfo& value) {
  return value.role == ValueRole::kParameter || value.role == ValueRole::kRunningStat ||
         value.role == ValueRole::kParameterGradient;
}

// `PlanType` must befriend LoweringBase (it fills the plan's launches_ and kernels_), and
// `Derived` too (LowerAll calls its lowering of each schedule entry).
template <typename Derived, typename PlanType>
class LoweringBase {
 public:
  absl::Status LowerAll() {
    Derived& self = static_cast<Derived&>(*this);
    return ForEachScheduled(
        graph_, [&self](int node) { return self.LowerForward(node); },
        [&self](const BackwardStep& step) { return self.LowerBackward(step); },
        [&self](const GradientSum& sum) { return self.LowerSum(sum); });
  }

 protected:
  LoweringBase(const TrainingGraph& graph, std::unique_ptr<PlanType> plan)
      : graph_(graph),
        plan_(std::move(plan)),
        values_(graph.graph.values),
        alias_of_(graph.alias_of),
        node_kernel_(graph.graph.nodes.size(), nullptr),
        node_saved_(graph.graph.nodes.size(), kNoValue) {}

  // A value that lowering adds (a workspace, saved statistics, a reordered copy).
  ValueId AppendValue(const std::string& name, const Shape& shape, DType dtype, ValueRole role) {
    values_.push_back({name, shape, dtype, role});
    alias_of_.push_back(static_cast<ValueId>(values_.size() - 1));
    return static_cast<ValueId>(values_.size() - 1);
  }
  const Shape& shape(ValueId value) const { return values_[value].shape; }
  void Add(std::string name, bool backward, std::vector<ValueId> reads,
           std::vector<ValueId> writes, std::function<absl::Status(PlanType&)> run) {
    plan_->launches_.push_back({std::move(name), backward, std::move(reads), std::move(writes),
                                std::move(run), {}, {}});
  }
  // The plan keeps the kernel alive; lowering and the launches use the raw pointer.
  template <typename Kernel>
  Kernel* Own(std::unique_ptr<Kernel> kernel) {
    Kernel* raw = kernel.get();
    plan_->kernels_.push_back(std::shared_ptr<Kernel>(std::move(kernel)));
    return raw;
  }

  const TrainingGraph& graph_;
  std::unique_ptr<PlanType> plan_;
  std::vector<ValueInfo> values_;  // the graph's values plus those lowering adds
  std::vector<ValueId> alias_of_;
  std::vector<void*> node_kernel_;   // per forward node: its kernel, shared with its backward
  std::vector<ValueId> node_saved_;  // per node: a buffer lowering added (workspace, log-probs)
};

}  // namespace ald
