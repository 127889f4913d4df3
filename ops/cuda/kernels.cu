// The hand-written CUDA kernels behind kernels.h: loss, accuracy, SGD, weighted sum,
// shortcut_pad and dropout. Float arithmetic that must match the CPU bit for bit uses the
// __f*_rn intrinsics, which nvcc never contracts into FMAs.
#include <climits>

#include "ops/cuda/kernels.h"
#include "ops/cuda/launch_geometry.h"

namespace ald::cuda::kernels {
namespace {

// Fixed-shape tree reduction of one value per thread in shared memory: the same order on every
// run, so the result is reproducible.
__device__ double BlockSum(double value, double* shared) {
  shared[threadIdx.x] = value;
  __syncthreads();
  for (int width = kThreads / 2; width > 0; width /= 2) {
    if (static_cast<int>(threadIdx.x) < width) shared[threadIdx.x] += shared[threadIdx.x + width];
    __syncthreads();
  }
  return shared[0];
}

__global__ void CrossEntropyLossKernel(const float* log_probs, const int32_t* labels, int64_t rows,
                                       int64_t classes, float* loss, int32_t* first_bad_row) {
  __shared__ double partial[kThreads];
  __shared__ int bad;
  if (threadIdx.x == 0) bad = INT_MAX;
  __syncthreads();
  double sum = 0.0;
  for (int64_t row = threadIdx.x; row < rows; row += kThreads) {
    const int32_t label = labels[row];
    if (label < 0 || label >= classes) {
      atomicMin(&bad, static_cast<int>(row));
      continue;
    }
    sum -= static_cast<double>(log_probs[row * classes + label]);
  }
  const double total = BlockSum(sum, partial);
  if (threadIdx.x == 0) {
    const bool ok = bad == INT_MAX;
    loss[0] =
        ok ? static_cast<float>(total / static_cast<double>(rows)) : __int_as_float(0x7fc00000);
    first_bad_row[0] = ok ? -1 : bad;
  }
}

__global__ void SoftmaxCrossEntropyBackwardKernel(const float* log_probs, const int32_t* labels,
                                                  int64_t rows, int64_t classes, float scale,
                                                  float* dlogits) {
  const int64_t n = rows * classes;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = i / classes, k = i % classes;
    const float onehot = labels[row] == k ? 1.0f : 0.0f;
    dlogits[i] = __fmul_rn(__fsub_rn(expf(log_probs[i]), onehot), scale);
  }
}

__global__ void CountCorrectKernel(const float* logits, const int32_t* labels, int64_t rows,
                                   int64_t classes, unsigned long long* correct,
                                   int32_t* first_bad_row) {
  __shared__ unsigned long long count;
  __shared__ int bad;
  if (threadIdx.x == 0) {
    count = 0;
    bad = INT_MAX;
  }
  __syncthreads();
  for (int64_t row = threadIdx.x; row < rows; row += kThreads) {
    const float* values = logits + row * classes;
    int64_t best = 0;
    // `>` exactly as ref::ArgMax: ties keep the lower index, NaN never replaces the best.
    for (int64_t k = 1; k < classes; ++k) {
      if (values[k] > values[best]) best = k;
    }
    const int32_t label = labels[row];
    if (label < 0 || label >= classes) {
      atomicMin(&bad, static_cast<int>(row));
    } else if (best == label) {
      atomicAdd(&count, 1ull);
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    correct[0] = count;
    first_bad_row[0] = bad == INT_MAX ? -1 : bad;
  }
}

template <MomentumKind kKind>
__global__ void SgdKernel(int64_t n, float lr, float m, float wd, float* x, const float* g,
                          float* buf) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float d = __fadd_rn(g[i], __fmul_rn(wd, x[i]));
    if constexpr (kKind != MomentumKind::kNone) {
      const float b = __fadd_rn(__fmul_rn(m, buf[i]), d);
      buf[i] = b;
      d = kKind == MomentumKind::kNesterov ? __fadd_rn(d, __fmul_rn(m, b)) : b;
    }
    x[i] = __fsub_rn(x[i], __fmul_rn(lr, d));
  }
}

// Kernel parameters are copied by value, so the pointers and weights travel with the launch
// and nothing has to be uploaded first.
struct WeightedSumArgs {
  const float* inputs[kMaxWeightedSumInputs];
  float weights[kMaxWeightedSumInputs];
};

__global__ void WeightedSumKernel(int num_inputs, WeightedSumArgs args, int64_t n, float* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float sum = __fmul_rn(args.weights[0], args.inputs[0][i]);
    for (int j = 1; j < num_inputs; ++j) {
      sum = __fadd_rn(sum, __fmul_rn(args.weights[j], args.inputs[j][i]));
    }
    out[i] = sum;
  }
}

__global__ void ShortcutPadForwardKernel(ShortcutPadGeometry g, const float* x, float* y) {
  const int64_t n = g.batch * g.out_channels * g.out_height * g.out_width;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t j = i % g.out_width;
    const int64_t row = i / g.out_width;
    const int64_t h = row % g.out_height;
    const int64_t k = (row / g.out_height) % g.out_channels;
    const int64_t batch = row / g.out_height / g.out_channels;
    const int64_t c = k - g.before;
    y[i] = c >= 0 && c < g.in_channels
               ? x[((batch * g.in_channels + c) * g.height + h * g.stride) * g.width + j * g.stride]
               : 0.0f;
  }
}

__global__ void ShortcutPadBackwardKernel(ShortcutPadGeometry g, const float* dy, float* dx) {
  const int64_t n = g.batch * g.in_channels * g.height * g.width;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t w = i % g.width;
    const int64_t row = i / g.width;
    const int64_t h = row % g.height;
    const int64_t c = (row / g.height) % g.in_channels;
    const int64_t batch = row / g.height / g.in_channels;
    const bool sampled = h % g.stride == 0 && w % g.stride == 0;
    dx[i] = sampled ? dy[((batch * g.out_channels + c + g.before) * g.out_height + h / g.stride) *
                             g.out_width +
                         w / g.stride]
                    : 0.0f;
  }
}

// One Philox4x32-10 block, the same rounds as core/rng.cc's Philox4x32 (Salmon et al., SC'11).
__device__ uint4 Philox4x32(uint4 counter, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kMultiplier0 = 0xD2511F53u, kMultiplier1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key0 += kWeyl0;
      key1 += kWeyl1;
    }
    const uint32_t hi0 = __umulhi(kMultiplier0, counter.x), lo0 = kMultiplier0 * counter.x;
    const uint32_t hi1 = __umulhi(kMultiplier1, counter.z), lo1 = kMultiplier1 * counter.z;
    counter = make_uint4(hi1 ^ counter.y ^ key0, lo1, hi0 ^ counter.w ^ key1, lo0);
  }
  return counter;
}

// Rng::NextU32 at `position` followed by Rng::Uniform() >= p: the CPU's keep decision.
__device__ bool Keep(const DropoutStream& s, uint64_t position) {
  const uint64_t block = position / 4;
  const uint4 words =
      Philox4x32(make_uint4(static_cast<uint32_t>(block),
                            static_cast<uint32_t>((block >> 32) & 0x00ffffffu) | s.stream_tag,
                            s.worker, s.step),
                 s.key0, s.key1);
  const unsigned word = static_cast<unsigned>(position % 4);
  const uint32_t value = word == 0 ? words.x : word == 1 ? words.y : word == 2 ? words.z : words.w;
  // 24 bits times 2^-24: exact in float, as on the CPU.
  const float uniform = static_cast<float>(value >> 8) * (1.0f / 16777216.0f);
  return uniform >= s.p;
}

__global__ void DropoutApplyKernel(DropoutStream s, float scale, const float* in, float* out,
                                   int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = Keep(s, s.first_position + static_cast<uint64_t>(i)) ? __fmul_rn(in[i], scale) : 0.0f;
  }
}

__global__ void DropoutMaskKernel(DropoutStream s, uint8_t* keep, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    keep[i] = Keep(s, s.first_position + static_cast<uint64_t>(i)) ? 1 : 0;
  }
}

}  // namespace

cudaError_t CrossEntropyLoss(const float* log_probs, const int32_t* labels, int64_t rows,
                             int64_t classes, float* loss, int32_t* first_bad_row,
                             cudaStream_t stream) {
  CrossEntropyLossKernel<<<1, kThreads, 0, stream>>>(log_probs, labels, rows, classes, loss,
                                                     first_bad_row);
  return cudaGetLastError();
}

cudaError_t SoftmaxCrossEntropyBackward(const float* log_probs, const int32_t* labels, int64_t rows,
                                        int64_t classes, float scale, float* dlogits,
                                        cudaStream_t stream) {
  SoftmaxCrossEntropyBackwardKernel<<<Blocks(rows * classes), kThreads, 0, stream>>>(
      log_probs, labels, rows, classes, scale, dlogits);
  return cudaGetLastError();
}

cudaError_t CountCorrect(const float* logits, const int32_t* labels, int64_t rows, int64_t classes,
                         unsigned long long* correct, int32_t* first_bad_row, cudaStream_t stream) {
  CountCorrectKernel<<<1, kThreads, 0, stream>>>(logits, labels, rows, classes, correct,
                                                 first_bad_row);
  return cudaGetLastError();
}

cudaError_t SgdStep(int64_t n, float lr, float momentum, float weight_decay, MomentumKind kind,
                    float* params, const float* grads, float* momentum_buffer,
                    cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  switch (kind) {
    case MomentumKind::kNone:
      SgdKernel<MomentumKind::kNone><<<Blocks(n), kThreads, 0, stream>>>(
          n, lr, momentum, weight_decay, params, grads, momentum_buffer);
      break;
    case MomentumKind::kHeavyBall:
      SgdKernel<MomentumKind::kHeavyBall><<<Blocks(n), kThreads, 0, stream>>>(
          n, lr, momentum, weight_decay, params, grads, momentum_buffer);
      break;
    case MomentumKind::kNesterov:
      SgdKernel<MomentumKind::kNesterov><<<Blocks(n), kThreads, 0, stream>>>(
          n, lr, momentum, weight_decay, params, grads, momentum_buffer);
      break;
  }
  return cudaGetLastError();
}

cudaError_t WeightedSum(int num_inputs, const float* weights, const float* const* inputs, int64_t n,
                        float* out, cudaStream_t stream) {
  if (num_inputs < 1 || num_inputs > kMaxWeightedSumInputs) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  WeightedSumArgs args{};
  for (int j = 0; j < num_inputs; ++j) {
    args.inputs[j] = inputs[j];
    args.weights[j] = weights[j];
  }
  WeightedSumKernel<<<Blocks(n), kThreads, 0, stream>>>(num_inputs, args, n, out);
  return cudaGetLastError();
}

cudaError_t ShortcutPadForward(const ShortcutPadGeometry& g, const float* x, float* y,
                               cudaStream_t stream) {
  ShortcutPadForwardKernel<<<Blocks(g.batch * g.out_channels * g.out_height * g.out_width),
                             kThreads, 0, stream>>>(g, x, y);
  return cudaGetLastError();
}

cudaError_t ShortcutPadBackward(const ShortcutPadGeometry& g, const float* dy, float* dx,
                                cudaStream_t stream) {
  ShortcutPadBackwardKernel<<<Blocks(g.batch * g.in_channels * g.height * g.width), kThreads, 0,
                              stream>>>(g, dy, dx);
  return cudaGetLastError();
}

cudaError_t DropoutApply(const DropoutStream& stream_def, float scale, const float* in, float* out,
                         int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  DropoutApplyKernel<<<Blocks(n), kThreads, 0, stream>>>(stream_def, scale, in, out, n);
  return cudaGetLastError();
}

cudaError_t DropoutMask(const DropoutStream& stream_def, uint8_t* keep, int64_t n,
                        cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  DropoutMaskKernel<<<Blocks(n), kThreads, 0, stream>>>(stream_def, keep, n);
  return cudaGetLastError();
}

}  // namespace ald::cuda::kernels
