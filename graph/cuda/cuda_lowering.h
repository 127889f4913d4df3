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
#include "graph/lowering_base.h"

namespace ald::cuda {

class CudaPlanBuilder : public LoweringBase<CudaPlanBuilder, CudaPlan> {
 public:
  // `plan` arrives with its streams, handles, host store and device parameter buffers made
  // (CompileCuda does that); the builder adds kernels, launches, the arena and the bindings.
  CudaPlanBuilder(const TrainingGraph& graph, std::unique_ptr<CudaPlan> plan, bool training);

  absl::StatusOr<std::unique_ptr<CudaPlan>> Finish();

 private:
  friend class LoweringBase<CudaPlanBuilder, CudaPlan>;

  absl::Status LowerForward(int node_index);
  absl::Status LowerBackward(const BackwardStep& step);
  absl::Status LowerSum(const GradientSum& sum);
  absl::Status Bind();
  void MarkBucketsReady();

  ValueId NewValue(const std::string& name, const Shape& shape, DType dtype, ValueRole role) {
    return AppendValue(name, shape, dtype, role);
  }

  const bool training_;
  ValueId workspace_ = kNoValue;     // the convolutions' shared scratch
  size_t workspace_bytes_ = 0;       // the largest any convolution needs
};

}  // namespace ald::cuda
