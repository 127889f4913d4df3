#include "ops/cpu/dnnl_util.h"

#include <exception>

#include "absl/strings/str_cat.h"

namespace ald::cpu {

dnnl::engine& Engine() {
  static dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::stream& Stream() {
  thread_local dnnl::stream stream(Engine());
  return stream;
}

dnnl::memory::dims Dims(const Shape& shape) {
  return dnnl::memory::dims(shape.dims().begin(), shape.dims().end());
}

dnnl::memory::data_type DnnlType(DType dtype) {
  switch (dtype) {
    case DType::kF32: return dnnl::memory::data_type::f32;
    case DType::kBF16: return dnnl::memory::data_type::bf16;
    case DType::kI32: return dnnl::memory::data_type::s32;
  }
  return dnnl::memory::data_type::undef;
}

dnnl::memory::desc PlainDesc(const Shape& shape, DType dtype) {
  // A scalar is described as a one-element vector: oneDNN has no rank-0 memory.
  const Shape described = shape.rank() == 0 ? Shape{1} : shape;
  dnnl::memory::dims strides(described.rank());
  const std::vector<int64_t> row_major = described.Strides();
  for (int i = 0; i < described.rank(); ++i) strides[i] = row_major[i];
  return dnnl::memory::desc(Dims(described), DnnlType(dtype), strides);
}

dnnl::memory PlainMemory(const Tensor& tensor) {
  return MemoryAs(PlainDesc(tensor.shape(), tensor.dtype()), tensor);
}

dnnl::memory MemoryAs(const dnnl::memory::desc& desc, const Tensor& tensor) {
  return dnnl::memory(desc, Engine(), const_cast<void*>(tensor.raw_data()));
}

absl::Status DnnlFailure(const std::string& what) {
  try {
    throw;
  } catch (const dnnl::error& error) {
    return absl::InternalError(absl::StrCat(what, ": oneDNN error ", error.status, ": ",
                                            error.what()));
  } catch (const std::exception& error) {
    return absl::InternalError(absl::StrCat(what, ": ", error.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(what, ": unknown exception"));
  }
}

absl::Status CheckTensor(const std::string& op, const std::string& role, const Tensor& tensor,
                         const Shape& expected, DType dtype) {
  if (!tensor.defined()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", role, " is undefined, expected ",
                                                   DTypeName(dtype), expected.ToString()));
  }
  if (tensor.shape() != expected || tensor.dtype() != dtype ||
      tensor.device().type != DeviceType::kCpu) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", role, " is ", tensor.Describe(),
                                                   ", expected ", DTypeName(dtype),
                                                   expected.ToString(), " cpu"));
  }
  return absl::OkStatus();
}

absl::StatusOr<LayoutBridge> LayoutBridge::Create(const dnnl::memory::desc& plain,
                                                  const dnnl::memory::desc& wanted) {
  LayoutBridge bridge;
  bridge.plain_ = plain;
  bridge.wanted_ = wanted;
  bridge.needed_ = plain != wanted;
  if (!bridge.needed_) return bridge;
  absl::Status built = GuardDnnl("layout reorder", [&]() -> absl::Status {
    bridge.scratch_ = dnnl::memory(wanted, Engine());
    dnnl::memory plain_probe(plain, Engine(), DNNL_MEMORY_NONE);
    bridge.to_wanted_ = dnnl::reorder(plain_probe, bridge.scratch_);
    bridge.from_wanted_ = dnnl::reorder(bridge.scratch_, plain_probe);
    return absl::OkStatus();
  });
  if (!built.ok()) return built;
  return bridge;
}

dnnl::memory LayoutBridge::ToWanted(const dnnl::memory& user) {
  if (!needed_) return user;
  to_wanted_.execute(Stream(), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, scratch_}});
  return scratch_;
}

dnnl::memory LayoutBridge::WantedFor(const dnnl::memory& user) { return needed_ ? scratch_ : user; }

void LayoutBridge::FromWanted(const dnnl::memory& user) {
  if (!needed_) return;
  from_wanted_.execute(Stream(), {{DNNL_ARG_FROM, scratch_}, {DNNL_ARG_TO, user}});
}

}  // namespace ald::cpu
