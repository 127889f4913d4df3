// The oneDNN backend's table of op lowerings: one row per op kind. An element-wise op is just its
// row (ElementwiseLowering); any other op's lowering is defined in its own file beside this one,
// declared here.
#include "graph/lowering.h"
#include "graph/lowering/shared.h"
#include "ops/cpu/relu.h"

namespace ald {

using cpu_lowering::BackwardReads;
using cpu_lowering::ElementwiseLowering;

OpLowering<PlanBuilder> AccuracyCpuLowering();
OpLowering<PlanBuilder> AddCpuLowering();
OpLowering<PlanBuilder> AvgPool2dCpuLowering();
OpLowering<PlanBuilder> BatchNorm2dCpuLowering();
OpLowering<PlanBuilder> Conv2dCpuLowering();
OpLowering<PlanBuilder> DropoutCpuLowering();
OpLowering<PlanBuilder> GlobalAvgPoolCpuLowering();
OpLowering<PlanBuilder> LinearCpuLowering();
OpLowering<PlanBuilder> MaxPool2dCpuLowering();
OpLowering<PlanBuilder> ShortcutPadCpuLowering();
OpLowering<PlanBuilder> SoftmaxCrossEntropyCpuLowering();

const LoweringTable<PlanBuilder>& PlanBuilder::Table() {
  static const LoweringTable<PlanBuilder>* const table = new LoweringTable<PlanBuilder>{
      {OpType::kAccuracy, AccuracyCpuLowering()},
      {OpType::kAdd, AddCpuLowering()},
      {OpType::kAvgPool2d, AvgPool2dCpuLowering()},
      {OpType::kBatchNorm2d, BatchNorm2dCpuLowering()},
      {OpType::kConv2d, Conv2dCpuLowering()},
      {OpType::kDropout, DropoutCpuLowering()},
      {OpType::kFlatten, ViewLowering<PlanBuilder>()},
      {OpType::kGlobalAvgPool, GlobalAvgPoolCpuLowering()},
      {OpType::kLinear, LinearCpuLowering()},
      {OpType::kMaxPool2d, MaxPool2dCpuLowering()},
      {OpType::kRelu, ElementwiseLowering<cpu::ReluCpu, BackwardReads::kOutput>()},
      {OpType::kShortcutPad, ShortcutPadCpuLowering()},
      {OpType::kSoftmaxCrossEntropy, SoftmaxCrossEntropyCpuLowering()},
  };
  return *table;
}

}  // namespace ald
