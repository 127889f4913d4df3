#include "ops/cpu/layout.h"

#include "absl/strings/str_cat.h"
#include "ops/cpu/bf16_support.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

const char* LayoutName(ActivationLayout layout) {
  switch (layout) {
    case ActivationLayout::kPlain: return "plain";
    case ActivationLayout::kBlocked16: return "nChw16c";
    case ActivationLayout::kChannelsLast: return "nhwc";
  }
  return "unknown";
}

bool Blocked16IsNative() {
  // The ISA that oneDNN's bf16 kernels need (avx512_core and up) is the one that reads nChw16c.
  return CpuBf16Capability().support != Bf16Support::kUnavailable;
}

absl::Status CheckLayout(const std::string& op, const Shape& shape, ActivationLayout layout) {
  if (layout == ActivationLayout::kPlain) return absl::OkStatus();
  if (shape.rank() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": layout ", LayoutName(layout),
                                                   " needs rank 4, got ", shape.ToString()));
  }
  if (layout == ActivationLayout::kBlocked16 && shape[1] % 16 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": layout ", LayoutName(layout), " needs channels a multiple of 16, got ",
                     shape.ToString()));
  }
  return absl::OkStatus();
}

dnnl::memory::desc ActivationDesc(const Shape& shape, ActivationLayout layout, DType dtype) {
  if (layout == ActivationLayout::kPlain) return PlainDesc(shape, dtype);
  if (layout == ActivationLayout::kChannelsLast) {
    return dnnl::memory::desc(Dims(shape), DnnlType(dtype), dnnl::memory::format_tag::nhwc);
  }
  return dnnl::memory::desc(Dims(shape), DnnlType(dtype), dnnl::memory::format_tag::nChw16c);
}

}  // namespace ald::cpu
