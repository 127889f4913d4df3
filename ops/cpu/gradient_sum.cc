#include "ops/cpu/gradient_sum.h"

#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {

absl::StatusOr<std::unique_ptr<GradientSumCpu>> GradientSumCpu::Create(int num_parts,
                                                                        int64_t length,
                                                                        DType dtype) {
  if (num_parts < 1 || length < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "gradient sum: needs at least one part and one element, got ", num_parts, " x ", length));
  }
  auto kernel = std::unique_ptr<GradientSumCpu>(new GradientSumCpu());
  kernel->num_parts_ = num_parts;
  kernel->length_ = length;
  kernel->dtype_ = dtype;
  RETURN_IF_ERROR(GuardDnnl("gradient sum: building the primitive", [&]() -> absl::Status {
    kernel->desc_ = PlainDesc(Shape{length}, dtype);
    const std::vector<float> ones(num_parts, 1.0f);
    const std::vector<dnnl::memory::desc> sources(num_parts, kernel->desc_);
    kernel->sum_ = dnnl::sum(dnnl::sum::primitive_desc(kernel->desc_, ones, sources, Engine()));
    return absl::OkStatus();
  }));
  return kernel;
}

absl::Status GradientSumCpu::Run(const std::vector<const Tensor*>& parts, Tensor& total) {
  if (static_cast<int>(parts.size()) != num_parts_) {
    return absl::InvalidArgumentError(
        absl::StrCat("gradient sum: ", parts.size(), " parts, built for ", num_parts_));
  }
  const Shape flat{length_};
  for (const Tensor* part : parts) {
    if (part->num_elements() != length_ || part->dtype() != dtype_) {
      return absl::InvalidArgumentError(absl::StrCat("gradient sum: part is ", part->Describe(),
                                                     ", expected ", length_, " elements of ",
                                                     DTypeName(dtype_)));
    }
  }
  if (total.num_elements() != length_ || total.dtype() != dtype_) {
    return absl::InvalidArgumentError(absl::StrCat("gradient sum: total is ", total.Describe(),
                                                   ", expected ", length_, " elements of ",
                                                   DTypeName(dtype_)));
  }
  return GuardDnnl("gradient sum", [&] {
    std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_DST, MemoryAs(desc_, total)}};
    for (int i = 0; i < num_parts_; ++i) {
      args[DNNL_ARG_MULTIPLE_SRC + i] = MemoryAs(desc_, *parts[i]);
    }
    sum_.execute(Stream(), args);
    return absl::OkStatus();
  });
}

}  // namespace ald::cpu
