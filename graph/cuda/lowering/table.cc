// The CUDA backend's table of op lowerings: one row per op kind. An element-wise op is just its
// row (ElementwiseLowering); any other op's lowering is defined in its own file beside this one,
// declared here.
#include "graph/cuda/cuda_lowering.h"
#include "graph/cuda/lowering/shared.h"
#include "ops/cuda/relu.h"

namespace ald::cuda {

using lowering::BackwardReads;
using lowering::ElementwiseLowering;

OpLowering<CudaPlanBuilder> AccuracyCudaLowering();
OpLowering<CudaPlanBuilder> AddCudaLowering();
OpLowering<CudaPlanBuilder> BatchNorm2dCudaLowering();
OpLowering<CudaPlanBuilder> Conv2dCudaLowering();
OpLowering<CudaPlanBuilder> DropoutCudaLowering();
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
      {OpType::kConv2d, Conv2dCudaLowering()},
      {OpType::kDropout, DropoutCudaLowering()},
      {OpType::kFlatten, ViewLowering<CudaPlanBuilder>()},
      {OpType::kGlobalAvgPool, PoolingCudaLowering()},
      {OpType::kLinear, LinearCudaLowering()},
      {OpType::kMaxPool2d, PoolingCudaLowering()},
      {OpType::kRelu, ElementwiseLowering<ReluCuda, BackwardReads::kOutput>()},
      {OpType::kShortcutPad, ShortcutPadCudaLowering()},
      {OpType::kSoftmaxCrossEntropy, SoftmaxCrossEntropyCudaLowering()},
  };
  return *table;
}

}  // namespace ald::cuda
