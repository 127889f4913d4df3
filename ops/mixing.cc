#include "ops/mixing.h"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "core/cpu_clones.h"
#include "core/status.h"
#include "ops/cpu/dnnl_util.h"

namespace ald::cpu {
namespace {

using dnnl::algorithm;

absl::Status CheckCreateLength(const char* kernel, int64_t length) {
  if (length >= 1) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(kernel, ": length must be positive, got ", length));
}

absl::Status CheckLength(const char* kernel, const std::string& role, size_t size,
                         int64_t length) {
  if (static_cast<int64_t>(size) == length) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(kernel, ": ", role, " has ", size,
                                                 " floats, the kernel was built for ", length));
}

// Element-wise kernels give the right answer when two buffers are the same or disjoint; a
// shifted overlap would read values the same call already wrote.
absl::Status CheckSameOrDisjoint(const char* kernel, const std::string& role_a,
                                 std::span<const float> a, const std::string& role_b,
                                 std::span<const float> b) {
  // std::less gives a total order on unrelated pointers, where `<` would be unspecified.
  const std::less<const float*> before;
  const bool disjoint = !before(a.data(), b.data() + b.size()) ||
                        !before(b.data(), a.data() + a.size());
  if (disjoint || (a.data() == b.data() && a.size() == b.size())) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(kernel, ": ", role_a, " and ", role_b,
                                                 " partly overlap; they must be the same buffer",
                                                 " or disjoint"));
}

dnnl::memory SpanMemory(const dnnl::memory::desc& desc, const float* data) {
  return dnnl::memory(desc, Engine(), const_cast<float*>(data));
}

// A binary primitive over `length` floats whose second source is `src1` (the same length, or
// one element broadcast).
absl::StatusOr<dnnl::binary> BuildBinary(const char* kernel, algorithm op, int64_t length,
                                         const dnnl::memory::desc& src1,
                                         const dnnl::primitive_attr& attr) {
  dnnl::binary binary;
  RETURN_IF_ERROR(GuardDnnl(absl::StrCat(kernel, ": building primitive"), [&] {
    const dnnl::memory::desc desc = PlainDesc(Shape{length});
    binary = dnnl::binary({{op, desc, src1, desc}, attr, Engine()});
    return absl::OkStatus();
  }));
  return binary;
}

absl::Status ExecuteBinary(const char* kernel, dnnl::binary& binary,
                           const std::unordered_map<int, dnnl::memory>& args) {
  return GuardDnnl(kernel, [&] {
    binary.execute(Stream(), args);
    // The scalar argument lives in the caller's frame: finish before it goes away.
    Stream().wait();
    return absl::OkStatus();
  });
}

// oneDNN 2.6's sum primitive takes its scales when it is created (DNNL_RUNTIME_F32_VAL is
// accepted there but then used literally: the result is NaN, checked on 2.6.3), and a chain of
// k-1 binary primitives with run-time scales moves 3(k-1) buffers where k+1 suffice. Mixing
// weights change every step, so the weighted sum is a hand loop: one read of each input and
// one write of out. `omp simd` (with -fopenmp-simd, no threads) makes GCC vectorise at -O2,
// and also vouches that no iteration depends on another, which holds when out is one of the
// inputs exactly (checked by the caller).
template <size_t kInputs>
inline __attribute__((always_inline)) void DirectWeightedSum(const float* weights,
                                                             const float* const* inputs,
                                                             size_t n, float* out) {
  // Local copies: out may alias what the pointers point at, but not the pointers themselves.
  float w[kInputs];
  const float* in[kInputs];
  for (size_t j = 0; j < kInputs; ++j) {
    w[j] = weights[j];
    in[j] = inputs[j];
  }
#pragma omp simd
  for (size_t i = 0; i < n; ++i) {
    float sum = w[0] * in[0][i];
    for (size_t j = 1; j < kInputs; ++j) sum += w[j] * in[j][i];
    out[i] = sum;
  }
}

constexpr size_t kChunkFloats = 1024;  // 4 KiB: a chunk of the sum and of each input fit in L1

inline __attribute__((always_inline)) void ScaleChunk(float w, const float* __restrict in,
                                                      float* __restrict sum, size_t n) {
#pragma omp simd
  for (size_t i = 0; i < n; ++i) sum[i] = w * in[i];
}

inline __attribute__((always_inline)) void AccumulateChunk(float w, const float* __restrict in,
                                                           float* __restrict sum, size_t n) {
#pragma omp simd
  for (size_t i = 0; i < n; ++i) sum[i] += w * in[i];
}

// Any number of inputs: each chunk is summed into an L1-resident scratch, then stored, so the
// memory traffic is still k reads and one write (at ~2/3 of the direct loop's speed).
void ChunkedWeightedSum(size_t num_inputs, const float* weights, const float* const* inputs,
                        size_t n, float* out) {
  alignas(64) float sum[kChunkFloats];
  for (size_t begin = 0; begin < n; begin += kChunkFloats) {
    const size_t count = std::min(kChunkFloats, n - begin);
    ScaleChunk(weights[0], inputs[0] + begin, sum, count);
    for (size_t j = 1; j < num_inputs; ++j) {
      AccumulateChunk(weights[j], inputs[j] + begin, sum, count);
    }
    std::copy_n(sum, count, out + begin);
  }
}

// Up to 8 inputs (1 + the degree of every topology we run) with the count known at compile
// time, so that the sum over inputs unrolls inside one vector loop. The AVX2 clone, chosen at
// load time, is ~10% faster than the baseline SSE2 on cache-resident buckets.
ALD_AVX2_CLONES void FusedWeightedSum(
    size_t num_inputs, const float* weights, const float* const* inputs, size_t n, float* out) {
  switch (num_inputs) {
    case 1: return DirectWeightedSum<1>(weights, inputs, n, out);
    case 2: return DirectWeightedSum<2>(weights, inputs, n, out);
    case 3: return DirectWeightedSum<3>(weights, inputs, n, out);
    case 4: return DirectWeightedSum<4>(weights, inputs, n, out);
    case 5: return DirectWeightedSum<5>(weights, inputs, n, out);
    case 6: return DirectWeightedSum<6>(weights, inputs, n, out);
    case 7: return DirectWeightedSum<7>(weights, inputs, n, out);
    case 8: return DirectWeightedSum<8>(weights, inputs, n, out);
    default: return ChunkedWeightedSum(num_inputs, weights, inputs, n, out);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<AxpyCpu>> AxpyCpu::Create(int64_t length) {
  RETURN_IF_ERROR(CheckCreateLength("axpy", length));
  auto kernel = std::unique_ptr<AxpyCpu>(new AxpyCpu());
  kernel->length_ = length;
  kernel->desc_ = PlainDesc(Shape{length});
  kernel->scalar_desc_ = PlainDesc(Shape{1});
  dnnl::primitive_attr attr;
  // Binary in oneDNN 2.6 does take run-time scales (unlike sum): a is passed at every call.
  attr.set_scales(DNNL_ARG_SRC_1, 0, {DNNL_RUNTIME_F32_VAL});
  ASSIGN_OR_RETURN(kernel->add_,
                   BuildBinary("axpy", algorithm::binary_add, length, kernel->desc_, attr));
  return kernel;
}

absl::Status AxpyCpu::Run(float a, std::span<const float> x, std::span<float> y) {
  RETURN_IF_ERROR(CheckLength("axpy", "x", x.size(), length_));
  RETURN_IF_ERROR(CheckLength("axpy", "y", y.size(), length_));
  RETURN_IF_ERROR(CheckSameOrDisjoint("axpy", "x", x, "y", y));
  // In place on the first source (dst == src_0) is allowed by oneDNN's binary.
  return ExecuteBinary("axpy", add_,
                       {{DNNL_ARG_SRC_0, SpanMemory(desc_, y.data())},
                        {DNNL_ARG_SRC_1, SpanMemory(desc_, x.data())},
                        {DNNL_ARG_DST, SpanMemory(desc_, y.data())},
                        {DNNL_ARG_ATTR_INPUT_SCALES | DNNL_ARG_SRC_1,
                         SpanMemory(scalar_desc_, &a)}});
}

absl::StatusOr<std::unique_ptr<ScaleCpu>> ScaleCpu::Create(int64_t length) {
  RETURN_IF_ERROR(CheckCreateLength("scale", length));
  auto kernel = std::unique_ptr<ScaleCpu>(new ScaleCpu());
  kernel->length_ = length;
  kernel->desc_ = PlainDesc(Shape{length});
  kernel->scalar_desc_ = PlainDesc(Shape{1});
  ASSIGN_OR_RETURN(kernel->multiply_, BuildBinary("scale", algorithm::binary_mul, length,
                                                  kernel->scalar_desc_, dnnl::primitive_attr()));
  return kernel;
}

absl::Status ScaleCpu::Run(float a, std::span<float> x) {
  RETURN_IF_ERROR(CheckLength("scale", "x", x.size(), length_));
  return ExecuteBinary("scale", multiply_,
                       {{DNNL_ARG_SRC_0, SpanMemory(desc_, x.data())},
                        {DNNL_ARG_SRC_1, SpanMemory(scalar_desc_, &a)},
                        {DNNL_ARG_DST, SpanMemory(desc_, x.data())}});
}

absl::StatusOr<std::unique_ptr<WeightedSumCpu>> WeightedSumCpu::Create(int num_inputs,
                                                                       int64_t length) {
  RETURN_IF_ERROR(CheckCreateLength("weighted sum", length));
  if (num_inputs < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("weighted sum: needs at least one input, got ", num_inputs));
  }
  auto kernel = std::unique_ptr<WeightedSumCpu>(new WeightedSumCpu());
  kernel->num_inputs_ = num_inputs;
  kernel->length_ = length;
  kernel->input_data_.resize(num_inputs);
  return kernel;
}

absl::Status WeightedSumCpu::Run(std::span<const float> weights,
                                 std::span<const std::span<const float>> inputs,
                                 std::span<float> out) {
  if (static_cast<int>(weights.size()) != num_inputs_ ||
      static_cast<int>(inputs.size()) != num_inputs_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weighted sum: got ", weights.size(), " weights and ", inputs.size(),
        " inputs, the kernel was built for ", num_inputs_, " inputs"));
  }
  RETURN_IF_ERROR(CheckLength("weighted sum", "out", out.size(), length_));
  for (int j = 0; j < num_inputs_; ++j) {
    const std::string role = absl::StrCat("input ", j);
    RETURN_IF_ERROR(CheckLength("weighted sum", role, inputs[j].size(), length_));
    RETURN_IF_ERROR(CheckSameOrDisjoint("weighted sum", role, inputs[j], "out", out));
    input_data_[j] = inputs[j].data();
  }
  FusedWeightedSum(num_inputs_, weights.data(), input_data_.data(), length_, out.data());
  return absl::OkStatus();
}

}  // namespace ald::cpu
