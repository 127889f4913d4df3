// Lowering: turns each entry of a prepared graph's schedule into kernel launches on oneDNN
// (through the ops/cpu kernels, created here once, by each op's entry in the table of
// graph/lowering/table.cc), then plans the arena over the launches' reads and writes and binds
// every value to its buffer. Used by Compile().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "graph/autodiff.h"
#include "graph/lowering_base.h"
#include "graph/parameter_store.h"
#include "graph/plan.h"
#include "graph/precision_pass.h"
#include "ops/cpu/layout.h"

namespace ald {

class PlanBuilder : public LoweringBase<PlanBuilder, Plan> {
 public:
  static constexpr const char* kBackend = "CPU";
  // Op kind to its oneDNN lowering (graph/lowering/table.cc).
  static const LoweringTable<PlanBuilder>& Table();

  // `blocked_layouts`: the layout pass's groups in the CPU's native channel blocking (nChw16c
  // with AVX-512, nChw8c with AVX2), or, with `precision` bf16, in NHWC (where oneDNN has AMX
  // bf16 convolutions).
  PlanBuilder(const TrainingGraph& graph, ParameterStore& store, bool training,
              bool blocked_layouts, Precision precision = Precision::kF32);

  absl::StatusOr<std::unique_ptr<Plan>> Finish();

  // For the ops' lowerings.
  bool training() const { return plan_->training_; }
  // `like` (if given) is a value whose layout the new one shares (a gradient's primal).
  ValueId NewValue(const std::string& name, const Shape& shape, DType dtype, ValueRole role,
                   ValueId like = kNoValue);
  cpu::ActivationLayout Layout(ValueId value) const {
    return blocked_[value] ? blocked_layout_ : cpu::ActivationLayout::kPlain;
  }

 private:
  friend class LoweringBase<PlanBuilder, Plan>;

  absl::Status LowerSum(const GradientSum& sum);
  // bf16 gradients: oneDNN's sum (the f32 path keeps WeightedSumCpu, bit for bit).
  absl::Status LowerLowPrecisionSum(const GradientSum& sum);
  absl::Status Bind();
  void MarkBucketsReady();

  ParameterStore& store_;
  cpu::ActivationLayout blocked_layout_;  // declared before blocked_, which is chosen for it
  std::vector<bool> blocked_;             // per value: blocked_layout_ (see layout_pass.h)
};

// The tensor of `value`, or an undefined one for kNoValue (an absent bias or gradient).
inline Tensor& Bound(Plan& plan, ValueId value) {
  static Tensor none;
  return value == kNoValue ? none : plan.tensor(value);
}

}  // namespace ald
