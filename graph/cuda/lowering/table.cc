// The CUDA backend's table of op lowerings: one row per op kind, each defined in its own file
// beside this one, declared here. Element-wise functions share one kind (elementwise.cc).
#include "graph/cuda/cuda_lowering.h"
#include "graph/cuda/lowering/shared.h"

namespace ald::cuda {

OpLowering<CudaPlanBuilder> AccuracyCudaLowering();
OpLowering<CudaPlanBuilder> AddCudaLowering();
OpLowering<CudaPlanBuilder> BatchNorm2dCudaLowering();
OpLowering<CudaPlanBuilder> CastCudaLowering();
OpLowering<CudaPlanBuilder> Conv2dCudaLowering();
OpLowering<CudaPlanBuilder> DropoutCudaLowering();
OpLowering<CudaPlanBuilder> ElementwiseCudaLowering();
OpLowering<CudaPlanBuilder> LinearCudaLowering();
OpLowering<CudaPlanBuilder> PoolingCudaLowering();
OpLowering<CudaPlanBuilder> ShortcutPadCudaLowering();
OpLowering<CudaPlanBuilder> SoftmaxCrossEntropyCudaLowering();

const LoweringTable<CudaPlanBuilder>& CudaPlanBuilder::Table() {
  static const LoweringTable<CudaPlanBuilder>* const table = new LoweringTable<CudaPlanBuilder>{
      {OpType::kAccuracy, AccuracyCudaLowering()},
      {OpType::kAdd, AddCudaLowering()},
      {OpType::kAvgPool2d, PoolingCudaLowering()},
      {OpType::kBatchNorm2d, BatchNorm2dCudaLowering()},
      {OpType::kCast, CastCudaLowering()},
      {OpType::kConv2d, Conv2dCudaLowering()},
      {OpType::kDropout, DropoutCudaLowering()},
      {OpType::kElementwise, ElementwiseCudaLowering()},
      {OpType::kFlatten, ViewLowering<CudaPlanBuilder>()},
      {OpType::kGlobalAvgPool, PoolingCudaLowering()},
      {OpType::kLinear, LinearCudaLowering()},
      {OpType::kMaxPool2d, PoolingCudaLowering()},
      {OpType::kShortcutPad, ShortcutPadCudaLowering()},
      {OpType::kSoftmaxCrossEntropy, SoftmaxCrossEntropyCudaLowering()},
  };
  return *table;
}

}  // namespace ald::cuda
