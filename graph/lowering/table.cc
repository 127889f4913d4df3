// The oneDNN backend's table of op lowerings: one row per op kind. Each op's lowering is defined
// in its own file beside this one; adding an op adds that file, its declaration and its row here.
#include "graph/lowering.h"

namespace ald {

OpLowering<PlanBuilder> AccuracyCpuLowering();
OpLowering<PlanBuilder> AddCpuLowering();
OpLowering<PlanBuilder> AvgPool2dCpuLowering();
OpLowering<PlanBuilder> BatchNorm2dCpuLowering();
OpLowering<PlanBuilder> Conv2dCpuLowering();
OpLowering<PlanBuilder> DropoutCpuLowering();
OpLowering<PlanBuilder> GlobalAvgPoolCpuLowering();
OpLowering<PlanBuilder> LinearCpuLowering();
OpLowering<PlanBuilder> MaxPool2dCpuLowering();
OpLowering<PlanBuilder> ReluCpuLowering();
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
      {OpType::kRelu, ReluCpuLowering()},
      {OpType::kShortcutPad, ShortcutPadCpuLowering()},
      {OpType::kSoftmaxCrossEntropy, SoftmaxCrossEntropyCpuLowering()},
  };
  return *table;
}

}  // namespace ald
