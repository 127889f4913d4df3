#include "ops/testing/layout_testing.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "ops/cpu/dnnl_util.h"
#include "ops/testing/op_testing.h"

namespace ald::testing {
namespace {

// A new tensor holding `source` reordered from layout `from` into layout `to`.
Tensor Reordered(const Tensor& source, cpu::ActivationLayout from, cpu::ActivationLayout to) {
  const Shape& shape = source.shape();
  absl::StatusOr<Tensor> target = Tensor::Create(shape, DType::kF32);
  absl::Status status = target.status();
  for (cpu::ActivationLayout layout : {from, to}) {
    if (status.ok()) status = cpu::CheckLayout("layout_testing", shape, layout);
  }
  if (status.ok()) {
    status = cpu::GuardDnnl("layout_testing reorder", [&] {
      dnnl::memory in = cpu::MemoryAs(cpu::ActivationDesc(shape, from), source);
      dnnl::memory out = cpu::MemoryAs(cpu::ActivationDesc(shape, to), *target);
      dnnl::reorder(in, out).execute(cpu::Stream(), in, out);
      cpu::Stream().wait();
      return absl::OkStatus();
    });
  }
  if (!status.ok()) {
    ADD_FAILURE() << status;
    std::abort();
  }
  return *std::move(target);
}

}  // namespace

Tensor ToLayout(const Tensor& plain, cpu::ActivationLayout layout) {
  return Reordered(plain, cpu::ActivationLayout::kPlain, layout);
}

Tensor FromLayout(const Tensor& tensor, cpu::ActivationLayout layout) {
  return Reordered(tensor, layout, cpu::ActivationLayout::kPlain);
}

std::vector<double> PlainValues(const Tensor& tensor, cpu::ActivationLayout layout) {
  return ToDoubles(FromLayout(tensor, layout));
}

}  // namespace ald::testing
