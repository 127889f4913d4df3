// CUDA lowering: turns each entry of a prepared graph's schedule into launches of the ops/cuda
// kernels (created here once, on the plan's compute stream, by each op's entry in the table of
// graph/cuda/lowering/table.cc), then plans one device arena over the launches' reads and writes
// and binds every value to a device address. The CUDA twin of graph/lowering.h; used by
// CompileCuda().
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/autodiff.h"
#include "graph/cuda/cuda_plan.h"
#include "graph/lowering_base.h"

namespace ald::cuda {

class CudaPlanBuilder : public LoweringBase<CudaPlanBuilder, CudaPlan> {
 public:
  static constexpr const char* kBackend = "CUDA";
  // Op kind to its CUDA lowering (graph/cuda/lowering/table.cc).
  static const LoweringTable<CudaPlanBuilder>& Table();

  // `plan` arrives with its streams, handles, host store and device parameter buffers made
  // (CompileCuda does that); the builder adds kernels, launches, the arena and the bindings.
  CudaPlanBuilder(const TrainingGraph& graph, std::unique_ptr<CudaPlan> plan, bool training);

  absl::StatusOr<std::unique_ptr<CudaPlan>> Finish();

  // For the ops' lowerings.
  bool training() const { return training_; }
  const CudaHandles& handles() const { return *plan_->handles_; }
  ValueId NewValue(const std::string& name, const Shape& shape, DType dtype, ValueRole role) {
    return AppendValue(name, shape, dtype, role);
  }
  // The convolutions' shared scratch value, and a request for at least `bytes` of it.
  ValueId workspace() const { return workspace_; }
  void NeedWorkspace(size_t bytes) { workspace_bytes_ = std::max(workspace_bytes_, bytes); }
  // The number of classes, for the label error message of the step's results.
  void set_classes(int64_t classes) { plan_->classes_ = classes; }

 private:
  friend class LoweringBase<CudaPlanBuilder, CudaPlan>;

  absl::Status LowerSum(const GradientSum& sum);
  absl::Status Bind();
  void MarkBucketsReady();

  const bool training_;
  ValueId workspace_ = kNoValue;     // the convolutions' shared scratch
  size_t workspace_bytes_ = 0;       // the largest any convolution needs
};

}  // namespace ald::cuda
