#include "ops/cpu/dropout.h"

#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

absl::StatusOr<std::unique_ptr<DropoutCpu>> DropoutCpu::Create(const Shape& shape,
                                                               const DropoutAttrs& attrs) {
  RETURN_IF_ERROR(DropoutShape(shape, attrs).status());
  auto kernel = std::unique_ptr<DropoutCpu>(new DropoutCpu());
  kernel->shape_ = shape;
  kernel->attrs_ = attrs;
  return kernel;
}

void DropoutCpu::ApplyMask(const Tensor& in, const DropoutKey& key, Tensor& out) const {
  const float scale = 1.0f / (1.0f - attrs_.p);
  const float* source = in.data<float>();
  float* target = out.data<float>();
  DropoutKeepStream keep(attrs_, key);
  for (int64_t i = 0; i < in.num_elements(); ++i) {
    target[i] = keep.Next() ? source[i] * scale : 0.0f;
  }
}

absl::Status DropoutCpu::Forward(const Tensor& x, const DropoutKey& key, Tensor& y) {
  RETURN_IF_ERROR(CheckTensor("dropout forward", "x", x, shape_));
  RETURN_IF_ERROR(CheckTensor("dropout forward", "y", y, shape_));
  ApplyMask(x, key, y);
  return absl::OkStatus();
}

absl::Status DropoutCpu::ForwardInference(const Tensor& x, Tensor& y) {
  RETURN_IF_ERROR(CheckTensor("dropout forward (inference)", "x", x, shape_));
  RETURN_IF_ERROR(CheckTensor("dropout forward (inference)", "y", y, shape_));
  if (y.raw_data() == x.raw_data()) return absl::OkStatus();
  return y.CopyFrom(x);
}

absl::Status DropoutCpu::Backward(const Tensor& dy, const DropoutKey& key, Tensor& dx) {
  RETURN_IF_ERROR(CheckTensor("dropout backward", "dy", dy, shape_));
  RETURN_IF_ERROR(CheckTensor("dropout backward", "dx", dx, shape_));
  ApplyMask(dy, key, dx);
  return absl::OkStatus();
}

}  // namespace ald::cpu
