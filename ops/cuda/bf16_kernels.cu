// The kernels behind bf16_kernels.h. bf16 is handled as its bit pattern (the upper half of a
// float) so that rounding and NaN handling are BFloat16's, not a library's.
#include "ops/cuda/bf16_kernels.h"
#include "ops/cuda/launch_geometry.h"

namespace ald::cuda::kernels {
namespace {

__device__ float ToFloat(uint16_t bits) { return __uint_as_float(static_cast<uint32_t>(bits) << 16); }

// BFloat16(float) of core/bfloat16.h: a NaN stays a quiet NaN, everything else rounds to
// nearest even.
__device__ uint16_t ToBf16(float value) {
  const uint32_t word = __float_as_uint(value);
  if ((word & 0x7f800000u) == 0x7f800000u && (word & 0x007fffffu) != 0) {
    return static_cast<uint16_t>((word >> 16) | 0x0040u);
  }
  const uint32_t rounding_bias = 0x7fffu + ((word >> 16) & 1u);
  return static_cast<uint16_t>((word + rounding_bias) >> 16);
}

const uint16_t* Bits(const BFloat16* p) { return reinterpret_cast<const uint16_t*>(p); }
uint16_t* Bits(BFloat16* p) { return reinterpret_cast<uint16_t*>(p); }

#define GRID_STRIDE(i, n)                                                              \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

__global__ void CastToBf16Kernel(const float* in, uint16_t* out, int64_t n) {
  GRID_STRIDE(i, n) { out[i] = ToBf16(in[i]); }
}

__global__ void CastToF32Kernel(const uint16_t* in, float* out, int64_t n) {
  GRID_STRIDE(i, n) { out[i] = ToFloat(in[i]); }
}

__global__ void BiasReluKernel(uint16_t* y, const float* bias, int64_t channels, int64_t inner,
                               bool relu, int64_t n) {
  GRID_STRIDE(i, n) {
    float value = ToFloat(y[i]);
    if (bias != nullptr) value = __fadd_rn(value, bias[(i / inner) % channels]);
    if (relu) value = value > 0.0f ? value : 0.0f;
    y[i] = ToBf16(value);
  }
}

__global__ void ReluBackwardKernel(const uint16_t* y, const uint16_t* dy, uint16_t* dz,
                                   int64_t n) {
  GRID_STRIDE(i, n) { dz[i] = ToFloat(y[i]) > 0.0f ? dy[i] : uint16_t{0}; }
}

// One block per channel: each thread sums a fixed stride of the channel's elements, then a
// fixed-shape tree adds the threads' sums.
__global__ void BiasGradientKernel(const uint16_t* dy, int64_t outer, int64_t channels,
                                   int64_t inner, float* db) {
  __shared__ float partial[kThreads];
  const int64_t c = blockIdx.x, count = outer * inner;
  float sum = 0.0f;
  for (int64_t j = threadIdx.x; j < count; j += kThreads) {
    const int64_t o = j / inner, k = j % inner;
    sum = __fadd_rn(sum, ToFloat(dy[(o * channels + c) * inner + k]));
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int width = kThreads / 2; width > 0; width /= 2) {
    if (static_cast<int>(threadIdx.x) < width) {
      partial[threadIdx.x] = __fadd_rn(partial[threadIdx.x], partial[threadIdx.x + width]);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) db[c] = partial[0];
}

struct SumArgs {
  const uint16_t* inputs[kMaxBf16SumInputs];
};

__global__ void SumKernel(int num_inputs, SumArgs args, int64_t n, uint16_t* out) {
  GRID_STRIDE(i, n) {
    float sum = ToFloat(args.inputs[0][i]);
    for (int j = 1; j < num_inputs; ++j) sum = __fadd_rn(sum, ToFloat(args.inputs[j][i]));
    out[i] = ToBf16(sum);
  }
}

}  // namespace

cudaError_t CastToBf16(const float* in, BFloat16* out, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  CastToBf16Kernel<<<Blocks(n), kThreads, 0, stream>>>(in, Bits(out), n);
  return cudaGetLastError();
}

cudaError_t CastToF32(const BFloat16* in, float* out, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  CastToF32Kernel<<<Blocks(n), kThreads, 0, stream>>>(Bits(in), out, n);
  return cudaGetLastError();
}

cudaError_t BiasReluBf16(BFloat16* y, const float* bias, int64_t outer, int64_t channels,
                         int64_t inner, bool relu, cudaStream_t stream) {
  const int64_t n = outer * channels * inner;
  if (n == 0 || (bias == nullptr && !relu)) return cudaSuccess;
  BiasReluKernel<<<Blocks(n), kThreads, 0, stream>>>(Bits(y), bias, channels, inner, relu, n);
  return cudaGetLastError();
}

cudaError_t ReluBackwardBf16(const BFloat16* y, const BFloat16* dy, BFloat16* dz, int64_t n,
                             cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  ReluBackwardKernel<<<Blocks(n), kThreads, 0, stream>>>(Bits(y), Bits(dy), Bits(dz), n);
  return cudaGetLastError();
}

cudaError_t BiasGradientBf16(const BFloat16* dy, int64_t outer, int64_t channels, int64_t inner,
                             float* db, cudaStream_t stream) {
  if (channels == 0) return cudaSuccess;
  if (channels > 0x7fffffff) return cudaErrorInvalidValue;
  BiasGradientKernel<<<static_cast<unsigned int>(channels), kThreads, 0, stream>>>(
      Bits(dy), outer, channels, inner, db);
  return cudaGetLastError();
}

cudaError_t SumBf16(int num_inputs, const BFloat16* const* inputs, int64_t n, BFloat16* out,
                    cudaStream_t stream) {
  if (num_inputs < 1 || num_inputs > kMaxBf16SumInputs) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  SumArgs args{};
  for (int j = 0; j < num_inputs; ++j) args.inputs[j] = Bits(inputs[j]);
  SumKernel<<<Blocks(n), kThreads, 0, stream>>>(num_inputs, args, n, Bits(out));
  return cudaGetLastError();
}

}  // namespace ald::cuda::kernels
