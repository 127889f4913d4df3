// The oneDNN backend's table of op lowerings: one row per op kind, each defined in its own file
// beside this one, declared here. Element-wise functions share one kind (elementwise.cc).
#include "graph/lowering.h"
#include "graph/lowering/shared.h"

namespace ald {

OpLowering<PlanBuilder> AccuracyCpuLowering();
OpLowering<PlanBuilder> AddCpuLowering();
OpLowering<PlanBuilder> AvgPool2dCpuLowering();
OpLowering<PlanBuilder> BatchNorm2dCpuLowering();
OpLowering<PlanBuilder> CastCpuLowering();
OpLowering<PlanBuilder> Conv2dCpuLowering();
OpLowering<PlanBuilder> DropoutCpuLowering();
OpLowering<PlanBuilder> ElementwiseCpuLowering();
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
      {OpType::kCast, CastCpuLowering()},
      {OpType::kConv2d, Conv2dCpuLowering()},
      {OpType::kDropout, DropoutCpuLowering()},
      {OpType::kElementwise, ElementwiseCpuLowering()},
      {OpType::kFlatten, ViewLowering<PlanBuilder>()},
      {OpType::kGlobalAvgPool, GlobalAvgPoolCpuLowering()},
      {OpType::kLinear, LinearCpuLowering()},
      {OpType::kMaxPool2d, MaxPool2dCpuLowering()},
      {OpType::kShortcutPad, ShortcutPadCpuLowering()},
      {OpType::kSoftmaxCrossEntropy, SoftmaxCrossEntropyCpuLowering()},
  };
  return *table;
}

}  // namespace ald
