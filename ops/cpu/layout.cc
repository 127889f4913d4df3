#include "ops/cpu/layout.h"

#include "absl/strings/str_cat.h"
#include "ops/cpu/bf16_support.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

const char* LayoutName(ActivationLayout layout) {
  switch (layout) {
    case ActivationLayout::kPlain: return "plain";
    case ActivationLayout::kBlocked16: return "nChw16c";
    case ActivationLayout::kBlocked8: return "nChw8c";
    case ActivationLayout::kChannelsLast: return "nhwc";
  }
  return "unknown";
}

int ChannelBlock(ActivationLayout layout) {
  switch (layout) {
    case ActivationLayout::kBlocked16: return 16;
    case ActivationLayout::kBlocked8: return 8;
    default: return 1;
  }
}

bool Blocked16IsNative() {
  // The ISA that oneDNN's bf16 kernels need (avx512_core and up) is the one that reads nChw16c.
  return CpuBf16Capability().support != Bf16Support::kUnavailable;
}

ActivationLayout NativeBlockedLayout() {
  return Blocked16IsNative() ? ActivationLayout::kBlocked16 : ActivationLayout::kBlocked8;
}

absl::Status CheckLayout(const std::string& op, const Shape& shape, ActivationLayout layout) {
  if (layout == ActivationLayout::kPlain) return absl::OkStatus();
  if (shape.rank() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": layout ", LayoutName(layout),
                                                   " needs rank 4, got ", shape.ToString()));
  }
  const int block = ChannelBlock(layout);
  if (shape[1] % block != 0) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": layout ", LayoutName(layout),
                                                   " needs channels a multiple of ", block,
                                                   ", got ", shape.ToString()));
  }
  return absl::OkStatus();
}

dnnl::memory::desc ActivationDesc(const Shape& shape, ActivationLayout layout, DType dtype) {
  if (layout == ActivationLayout::kPlain) return PlainDesc(shape, dtype);
  if (layout == ActivationLayout::kChannelsLast) {
    return dnnl::memory::desc(Dims(shape), DnnlType(dtype), dnnl::memory::format_tag::nhwc);
  }
  return dnnl::memory::desc(Dims(shape), DnnlType(dtype),
                            layout == ActivationLayout::kBlocked8 ? dnnl::memory::format_tag::nChw8c
                                                                  : dnnl::memory::format_tag::nChw16c);
}

}  // namespace ald::cpu
