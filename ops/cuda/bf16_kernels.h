// Launchers of the hand-written CUDA kernels for --precision=bf16 on tensor cores (bf16_kernels.cu):
// the casts between the f32 master values and their bf16 copies, and the small passes around a
// bf16 convolution or linear layer that cuDNN and cuBLAS leave to the caller (bias, ReLU, bias
// gradient, gradient sums). bf16 buffers hold ald::BFloat16 (core/bfloat16.h); every conversion
// to bf16 rounds to nearest even exactly as BFloat16(float) does on the CPU, and every sum is
// taken in float in a fixed order, so a result is the same on every run. Each returns the launch
// status; sizes are checked by the callers.
#pragma once

#include <cstdint>

#include "core/bfloat16.h"
#include "cuda_runtime_api.h"

namespace ald::cuda::kernels {

// out[i] = BFloat16(in[i]).
cudaError_t CastToBf16(const float* in, BFloat16* out, int64_t n, cudaStream_t stream);
// out[i] = float(in[i]) (exact).
cudaError_t CastToF32(const BFloat16* in, float* out, int64_t n, cudaStream_t stream);

// y, laid out [outer, channels, inner] (NCHW, or [N, out] with inner 1): y = y + bias[c] when
// `bias` is not null, then max(y, 0) when `relu`; computed in float, stored as bf16.
cudaError_t BiasReluBf16(BFloat16* y, const float* bias, int64_t outer, int64_t channels,
                         int64_t inner, bool relu, cudaStream_t stream);
// dz[i] = y[i] > 0 ? dy[i] : 0: the gradient through a ReLU from its output. dz may be dy.
cudaError_t ReluBackwardBf16(const BFloat16* y, const BFloat16* dy, BFloat16* dz, int64_t n,
                             cudaStream_t stream);
// db[c] = Σ over outer and inner of dy[outer, c, inner], in float, one block per channel.
cudaError_t BiasGradientBf16(const BFloat16* dy, int64_t outer, int64_t channels, int64_t inner,
                             float* db, cudaStream_t stream);

// out[i] = BFloat16(Σ_j float(inputs[j][i])), summed in input order. out may be an input.
inline constexpr int kMaxBf16SumInputs = 32;
cudaError_t SumBf16(int num_inputs, const BFloat16* const* inputs, int64_t n, BFloat16* out,
                    cudaStream_t stream);

}  // namespace ald::cuda::kernels
