// Consensus (mixing) kernels on flat fp32 device buffers: the weighted sum out = Σ_j w_j·in_j
// of every combine step (kernels.cu, in input order as ops/mixing.h), and y ← y + a·x, x ← a·x
// on cuBLAS (cublasSaxpy/cublasSscal).
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "ops/cuda/handles.h"

namespace ald::cuda {

// out[i] = Σ_j weights[j]·inputs[j][i] over n floats, enqueued on `stream`; bit for bit the
// CPU's WeightedSumCpu (products and sums rounded separately, in input order). Weights and the
// input pointers are host arrays (at most kernels::kMaxWeightedSumInputs); `out` must be the
// same buffer as, or disjoint from, each input.
absl::Status WeightedSum(std::span<const float> weights, std::span<const float* const> inputs,
                         int64_t n, float* out, cudaStream_t stream);

// y ← y + a·x (cublasSaxpy; cuBLAS may fuse the multiply-add, so the last bit can differ from
// the CPU's AxpyCpu). x may be y itself but may not partly overlap it.
absl::Status Axpy(const CudaHandles& handles, int64_t n, float a, const float* x, float* y);
// x ← a·x (cublasSscal).
absl::Status Scale(const CudaHandles& handles, int64_t n, float a, float* x);

}  // namespace ald::cuda
