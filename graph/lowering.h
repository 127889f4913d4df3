// Lowering: turns each entry of a prepared graph's schedule into kernel launches on oneDNN
// (through the ops/cpu kernels, created here once), then plans the arena over the launches'
// reads and writes and binds every value to its buffer. Used by Compile().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/autodiff.h"
#include "graph/parameter_store.h"
#include "graph/plan.h"
#include "ops/cpu/layout.h"

namespace ald {

class PlanBuilder {
 public:
  PlanBuilder(const TrainingGraph& graph, ParameterStore& store, bool training,
              bool blocked_layouts);

  absl::Status LowerAll();
  absl::StatusOr<std::unique_ptr<Plan>> Finish();

 private:
  absl::Status LowerForward(int node_index);
  absl::Status LowerBackward(const BackwardStep& step);
  absl::Status LowerSum(const GradientSum& sum);
  absl::Status Bind();
  void MarkBucketsReady();

  // `like` (if given) is a value whose layout the new one shares (a gradient's primal).
  ValueId NewValue(const std::string& name, const Shape& shape, DType dtype, ValueRole role,
                   ValueId like = kNoValue);
  cpu::ActivationLayout Layout(ValueId value) const {
    return blocked_[value] ? cpu::ActivationLayout::kBlocked16 : cpu::ActivationLayout::kPlain;
  }
  const Shape& shape(ValueId value) const { return values_[value].shape; }
  void Add(std::string name, bool backward, std::vector<ValueId> reads,
           std::vector<ValueId> writes, std::function<absl::Status(Plan&)> run);
  template <typename Kernel>
  Kernel* Own(std::unique_ptr<Kernel> kernel) {
    Kernel* raw = kernel.get();
    plan_->kernels_.push_back(std::shared_ptr<Kernel>(std::move(kernel)));
    return raw;
  }

  const TrainingGraph& graph_;
  ParameterStore& store_;
  std::unique_ptr<Plan> plan_;
  std::vector<ValueInfo> values_;   // the graph's values plus those lowering adds
  std::vector<ValueId> alias_of_;
  std::vector<void*> node_kernel_;  // per forward node: its kernel, shared with its backward
  std::vector<ValueId> node_saved_;  // per node: a buffer lowering added (workspace, log-probs)
  std::vector<bool> blocked_;        // per value: nChw16c (see layout_pass.h)
};

}  // namespace ald
