// cast (f32 <-> bf16, inserted by graph/precision_pass.h around the GPU's bf16 convolutions and
// linear layers): one kernel each way; the backward casts the gradient back.
#include <string>

#include "absl/strings/str_cat.h"
#include "graph/cuda/lowering/shared.h"
#include "ops/cuda/bf16_kernels.h"
#include "ops/cuda/cuda_status.h"

namespace ald::cuda {
namespace {

// Adds the launch that writes `to` as `from` in `to`'s type.
absl::Status AddCast(CudaPlanBuilder& b, const std::string& name, bool backward, ValueId from,
                     ValueId to) {
  const DType from_type = b.value(from).dtype, to_type = b.value(to).dtype;
  const int64_t n = b.shape(from).num_elements();
  if (from_type == DType::kF32 && to_type == DType::kBF16) {
    b.Add(name, backward, {from}, {to}, [=](CudaPlan& p) {
      return CudaStatus(kernels::CastToBf16(p.ptr<const float>(from), p.ptr<BFloat16>(to), n,
                                            p.compute_stream()),
                        "CastToBf16");
    });
    return absl::OkStatus();
  }
  if (from_type == DType::kBF16 && to_type == DType::kF32) {
    b.Add(name, backward, {from}, {to}, [=](CudaPlan& p) {
      return CudaStatus(kernels::CastToF32(p.ptr<const BFloat16>(from), p.ptr<float>(to), n,
                                           p.compute_stream()),
                        "CastToF32");
    });
    return absl::OkStatus();
  }
  return absl::UnimplementedError(absl::StrCat(name, ": a cast from ", DTypeName(from_type),
                                               " to ", DTypeName(to_type),
                                               " (CUDA casts f32 <-> bf16)"));
}

absl::Status Forward(CudaPlanBuilder& b, int index) {
  const Node& node = b.node(index);
  return AddCast(b, node.name + " forward", false, node.inputs[0], node.outputs[0]);
}

absl::Status Backward(CudaPlanBuilder& b, const BackwardStep& step) {
  const ValueId dx = step.input_grads[0];
  if (dx == kNoValue) return absl::OkStatus();
  return AddCast(b, b.node(step.node).name + " backward", true, step.output_grad, dx);
}

}  // namespace

OpLowering<CudaPlanBuilder> CastCudaLowering() { return {&Forward, &Backward}; }

}  // namespace ald::cuda
