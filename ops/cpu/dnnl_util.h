// The glue between core tensors and oneDNN: the CPU engine and stream, memory descriptors for
// plain (row-major) tensors, and the conversion of oneDNN's exceptions into absl::Status.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/shape.h"
#include "core/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace ald::cpu {

// One CPU engine for the process.
dnnl::engine& Engine();
// One stream per calling thread: in-process workers run their plans on their own threads.
dnnl::stream& Stream();

dnnl::memory::dims Dims(const Shape& shape);
dnnl::memory::data_type DnnlType(DType dtype);
// Row-major layout of any rank 1..6 (nchw for rank 4, nc for rank 2, ...).
dnnl::memory::desc PlainDesc(const Shape& shape, DType dtype = DType::kF32);
// A oneDNN view of a tensor's storage in its plain layout; no copy.
dnnl::memory PlainMemory(const Tensor& tensor);
// A oneDNN view of a tensor's storage in the layout `desc`; no copy.
dnnl::memory MemoryAs(const dnnl::memory::desc& desc, const Tensor& tensor);

// Turns whatever oneDNN threw while `what` ran into a Status naming it. Use as
//   try { ... } catch (...) { return DnnlFailure("conv2d forward"); }
absl::Status DnnlFailure(const std::string& what);

// Runs `body` (which builds or executes primitives) and converts any exception into a Status.
template <typename Body>
absl::Status GuardDnnl(const std::string& what, Body&& body) {
  try {
    return std::forward<Body>(body)();
  } catch (...) {
    return DnnlFailure(what);
  }
}

// Whether oneDNN settled on its reference (plain loop) implementation for `pd`: orders of
// magnitude slower than a jit kernel, so a caller that asked for some layout for speed falls
// back to the layout it was given instead.
template <typename PrimitiveDesc>
bool IsReferenceKernel(const PrimitiveDesc& pd) {
  return std::string_view(pd.impl_info_str()).starts_with("ref");
}

// The primitive descriptor `make(src, dst)` gives for the first (src, dst) layout pair in
// `candidates` whose kernel is not oneDNN's reference; the last pair's if every one is. A pair
// for which oneDNN has no implementation at all is skipped; the last pair must have one (callers
// end with the exact layouts they were given). The choice is a fixed function of the shapes and
// of the CPU's kernels, so the same flags give the same bits.
template <typename MakePd>
auto FirstNonReference(
    MakePd make,
    std::initializer_list<std::pair<dnnl::memory::desc, dnnl::memory::desc>> candidates) {
  const auto* last = candidates.end() - 1;
  for (const auto* pair = candidates.begin(); pair != last; ++pair) {
    try {
      auto pd = make(pair->first, pair->second);
      if (!IsReferenceKernel(pd)) return pd;
    } catch (const dnnl::error&) {
      // No implementation takes these layouts: try the next pair.
    }
  }
  return make(last->first, last->second);
}

// Returns an InvalidArgument error naming `op` unless `tensor` is a defined CPU tensor of
// `dtype` and shape `expected`.
absl::Status CheckTensor(const std::string& op, const std::string& role, const Tensor& tensor,
                         const Shape& expected, DType dtype = DType::kF32);

// Executes `reorder` from `from` into `to` when their layouts differ; returns `to` or `from`.
// Used where a primitive prefers a blocked layout for a tensor given in plain layout.
class LayoutBridge {
 public:
  LayoutBridge() = default;
  // `plain` is the caller's layout, `wanted` the primitive's; a scratch buffer is allocated
  // here, once, when they differ.
  static absl::StatusOr<LayoutBridge> Create(const dnnl::memory::desc& plain,
                                             const dnnl::memory::desc& wanted);
  bool needed() const { return needed_; }
  const dnnl::memory::desc& wanted() const { return wanted_; }
  // The memory a primitive should read: `user` itself, or a reordered copy of it.
  dnnl::memory ToWanted(const dnnl::memory& user);
  // The memory a primitive should write; call FromWanted afterwards to land it in `user`.
  dnnl::memory WantedFor(const dnnl::memory& user);
  void FromWanted(const dnnl::memory& user);

 private:
  bool needed_ = false;
  dnnl::memory::desc plain_, wanted_;
  dnnl::memory scratch_;
  dnnl::reorder to_wanted_, from_wanted_;
};

}  // namespace ald::cpu
