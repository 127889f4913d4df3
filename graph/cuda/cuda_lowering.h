// CUDA lowering: turns each entry of a prepared graph's schedule into launches of the ops/cuda
// kernels (created here once, on the plan's compute stream), then plans one device arena over
// the launches' reads and writes and binds every value to a device address. The CUDA twin of
// graph/lowering.h, entry for entry; used by CompileCuda().
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/autodiff.h"
#include "graph/cuda/cuda_plan.h"

namespace ald::cuda {

class CudaPlanBuilder {
 public:
  // `plan` arrives with its streams, handles, host store and device parameter buffers made
  // (CompileCuda does that); the builder adds kernels, launches, the arena and the bindings.
  CudaPlanBuilder(const TrainingGraph& graph, std::unique_ptr<CudaPlan> plan, bool training);

  absl::Status LowerAll();
  absl::StatusOr<std::unique_ptr<CudaPlan>> Finish();

 private:
  absl::Status LowerForward(int node_index);
  absl::Status LowerBackward(const BackwardStep& step);
  absl::Status LowerSum(const GradientSum& sum);
  absl::Status Bind();
  void MarkBucketsReady();

  ValueId NewValue(const std::string& name, const Shape& shape, DType dtype, ValueRole role);
  const Shape& shape(ValueId value) const { return values_[value].shape; }
  void Add(std::string name, bool backward, std::vector<ValueId> reads,
           std::vector<ValueId> writes, std::function<absl::Status(CudaPlan&)> run);
  template <typename Kernel>
  Kernel* Own(std::unique_ptr<Kernel> kernel) {
    Kernel* raw = kernel.get();
    plan_->kernels_.push_back(std::shared_ptr<Kernel>(std::move(kernel)));
    return raw;
  }

  const TrainingGraph& graph_;
  std::unique_ptr<CudaPlan> plan_;
  const bool training_;
  std::vector<ValueInfo> values_;  // the graph's values plus those lowering adds
  std::vector<ValueId> alias_of_;
  std::vector<void*> node_kernel_;   // per forward node: its kernel, shared with its backward
  std::vector<ValueId> node_saved_;  // per node: a buffer lowering added (log-probs)
  ValueId workspace_ = kNoValue;     // the convolutions' shared scratch
  size_t workspace_bytes_ = 0;       // the largest any convolution needs
};

}  // namespace ald::cuda
