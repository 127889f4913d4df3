// What every backend's lowering shares (graph/lowering.h on oneDNN, graph/cuda/cuda_lowering.h
// on CUDA): the value table that lowering extends, the launches and kernels of the plan being
// built, and the walk over the schedule that hands each op to its entry in the backend's table
// of op lowerings. A lowering derives from LoweringBase with its own plan type and supplies
// Table() and LowerSum.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "graph/autodiff.h"
#include "graph/memory_plan.h"
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

// One op's lowering on one backend: `forward` creates the op's kernel once and adds its forward
// launches; `backward` adds the launches of one of its backward steps. Each op kind's pair lives
// in a file of its own (graph/lowering/<op>.cc, graph/cuda/lowering/<op>.cc); every element-wise
// function shares elementwise.cc's, which finds the function in the registries (ops/eltwise).
template <typename Builder>
struct OpLowering {
  absl::Status (*forward)(Builder& builder, int node);
  absl::Status (*backward)(Builder& builder, const BackwardStep& step);
};

// A backend's registry: op kind to its lowering.
template <typename Builder>
using LoweringTable = absl::flat_hash_map<OpType, OpLowering<Builder>>;

// `PlanType` must befriend LoweringBase (it fills the plan's launches_ and kernels_), and
// `Derived` too (LowerAll calls its Table() and LowerSum).
template <typename Derived, typename PlanType>
class LoweringBase {
 public:
  absl::Status LowerAll() {
    Derived& self = static_cast<Derived&>(*this);
    return ForEachScheduled(
        graph_,
        [&self](int node) -> absl::Status {
          ASSIGN_OR_RETURN(const OpLowering<Derived>* lowering, self.Find(node));
          return lowering->forward(self, node);
        },
        [&self](const BackwardStep& step) -> absl::Status {
          ASSIGN_OR_RETURN(const OpLowering<Derived>* lowering, self.Find(step.node));
          return lowering->backward(self, step);
        },
        [&self](const GradientSum& sum) { return self.LowerSum(sum); });
  }

  // What an op's lowering works with (see OpLowering).
  const Node& node(int index) const { return graph_.graph.nodes[index]; }
  const Shape& shape(ValueId value) const { return values_[value].shape; }
  const ValueInfo& value(ValueId value) const { return values_[value]; }
  // Adds a launch; `reads` and `writes` are what the memory planner sees of it.
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
  // A kernel just created for `node_index`, owned by the plan; a creation error names the node.
  template <typename Kernel>
  absl::StatusOr<Kernel*> Own(int node_index, absl::StatusOr<std::unique_ptr<Kernel>> made) {
    if (!made.ok()) {
      return absl::Status(made.status().code(),
                          absl::StrCat(node(node_index).name, ": ", made.status().message()));
    }
    return Own(*std::move(made));
  }
  // The kernel a node's forward made, for its backward (the two share primitives and saved
  // state); an error if the backward comes first, which would be a schedule bug.
  void set_kernel(int node_index, void* kernel) { node_kernel_[node_index] = kernel; }
  template <typename Kernel>
  absl::StatusOr<Kernel*> kernel(int node_index) const {
    if (node_kernel_[node_index] == nullptr) {
      const Node& op = node(node_index);
      return absl::InternalError(
          absl::StrCat(op.name, ": backward of ", OpTypeName(op.type), " before its forward"));
    }
    return static_cast<Kernel*>(node_kernel_[node_index]);
  }
  // A buffer lowering added for a node's backward (a workspace, log-probabilities).
  void set_saved(int node_index, ValueId value) { node_saved_[node_index] = value; }
  ValueId saved(int node_index) const { return node_saved_[node_index]; }
  // `view` shares the storage of `of` (a reshape): no launch, no buffer of its own.
  void Alias(ValueId view, ValueId of) { alias_of_[view] = of; }

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

  size_t ValueBytes(ValueId value) const {
    return static_cast<size_t>(values_[value].shape.num_elements()) *
           DTypeSize(values_[value].dtype);
  }
  // What the arena planner needs of the launches built so far; the backend adds the values that
  // outlive them and says which values the arena holds.
  LivenessInput ArenaLiveness() const {
    LivenessInput input;
    input.alias_of = alias_of_;
    for (const auto& launch : plan_->launches_) {
      input.launches.push_back({&launch.reads, &launch.writes});
    }
    input.describe = [this](ValueId value) {
      return std::make_pair(values_[value].name, ValueBytes(value));
    };
    return input;
  }

  const TrainingGraph& graph_;
  std::unique_ptr<PlanType> plan_;
  std::vector<ValueInfo> values_;  // the graph's values plus those lowering adds
  std::vector<ValueId> alias_of_;

 private:
  absl::StatusOr<const OpLowering<Derived>*> Find(int node_index) const {
    const Node& op = node(node_index);
    const LoweringTable<Derived>& table = Derived::Table();
    auto it = table.find(op.type);
    if (it == table.end()) {
      return absl::UnimplementedError(absl::StrCat(op.name, ": no ", Derived::kBackend,
                                                   " lowering for ", OpTypeName(op.type)));
    }
    return &it->second;
  }

  std::vector<void*> node_kernel_;   // per forward node: its kernel, shared with its backward
  std::vector<ValueId> node_saved_;  // per node: a buffer lowering added (workspace, log-probs)
};

// Ops that lower the same way on every backend.
// A view (flatten): the output shares the input's storage, and the input's gradient is the
// output's (autodiff aliases them), so neither pass launches anything.
template <typename Builder>
OpLowering<Builder> ViewLowering() {
  return {[](Builder& b, int index) {
            const Node& node = b.node(index);
            b.Alias(node.outputs[0], node.inputs[0]);
            return absl::OkStatus();
          },
          [](Builder&, const BackwardStep&) { return absl::OkStatus(); }};
}

// An op with no gradient (accuracy): its backward adds nothing.
template <typename Builder>
absl::Status NoBackward(Builder&, const BackwardStep&) {
  return absl::OkStatus();
}

}  // namespace ald
