// Lowering: turns each entry of a prepared graph's schedule into kernel launches on oneDNN
// (through the ops/cpu kernels, created here once), then plans the arena over the launches'
// reads and writes and binds every value to its buffer. Used by Compile().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/autodiff.h"
#include "graph/lowering_base.h"
#include "graph/parameter_store.h"
#include "graph/plan.h"
#include "ops/cpu/layout.h"

namespace ald {

class PlanBuilder : public LoweringBase<PlanBuilder, Plan> {
 public:
  PlanBuilder(const TrainingGraph& graph, ParameterStore& store, bool training,
              bool blocked_layouts);

  absl::StatusOr<std::unique_ptr<Plan>> Finish();

 private:
  friend class LoweringBase<PlanBuilder, Plan>;

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

  ParameterStore& store_;
  std::vector<bool> blocked_;  // per value: nChw16c (see layout_pass.h)
};

}  // namespace ald
