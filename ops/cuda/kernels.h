// Launchers of the hand-written CUDA kernels (kernels.cu) for the ops no library provides:
// plain C++ (raw device pointers, sizes, a stream) so that gcc compiles every caller and only
// kernels.cu goes through nvcc. Each returns the launch status (cudaGetLastError); sizes and
// aliasing are checked by the op classes that call them, not here.
#pragma once

#include <cstdint>

#include "cuda_runtime_api.h"

namespace ald::cuda::kernels {

// loss[0] = -mean_i log_probs[i, labels[i]], summed in a fixed order (one block), so the loss
// is bitwise reproducible. first_bad_row[0] = the lowest row whose label is outside
// [0, classes), or -1; such rows are not read (the loss is then NaN). rows <= INT32_MAX.
cudaError_t CrossEntropyLoss(const float* log_probs, const int32_t* labels, int64_t rows,
                             int64_t classes, float* loss, int32_t* first_bad_row,
                             cudaStream_t stream);

// dlogits[i, k] = (exp(log_probs[i, k]) - [k == labels[i]]) * scale, scale = dloss / rows.
cudaError_t SoftmaxCrossEntropyBackward(const float* log_probs, const int32_t* labels, int64_t rows,
                                        int64_t classes, float scale, float* dlogits,
                                        cudaStream_t stream);

// correct[0] = the number of rows whose first maximum (ties to the lowest index, NaN never
// wins, as ops/ref/accuracy.h) is at the label; first_bad_row as in CrossEntropyLoss.
cudaError_t CountCorrect(const float* logits, const int32_t* labels, int64_t rows, int64_t classes,
                         unsigned long long* correct, int32_t* first_bad_row, cudaStream_t stream);

// torch.optim.SGD's step (dampening 0) with exactly ops/sgd.cc's float operations, each
// rounded separately (no FMA contraction), so GPU and CPU parameters agree bit for bit:
//   d = g + wd·x;  b = m·buf + d, buf = b;  d = d + m·b (Nesterov) or b;  x = x - lr·d.
enum class MomentumKind : int { kNone = 0, kHeavyBall = 1, kNesterov = 2 };
cudaError_t SgdStep(int64_t n, float lr, float momentum, float weight_decay, MomentumKind kind,
                    float* params, const float* grads, float* momentum_buffer, cudaStream_t stream);

// out[i] = Σ_j weights[j]·inputs[j][i], summed in input order with separately rounded
// products and sums, as ops/mixing.cc does. out may be one of the inputs (each element is read
// from every input before it is written).
inline constexpr int kMaxWeightedSumInputs = 32;
cudaError_t WeightedSum(int num_inputs, const float* weights, const float* const* inputs, int64_t n,
                        float* out, cudaStream_t stream);

// Geometry of shortcut_pad (ops/ref/shortcut_pad.h's ShortcutPadDims).
struct ShortcutPadGeometry {
  int64_t batch, in_channels, height, width, out_channels, out_height, out_width, stride, before;
};
cudaError_t ShortcutPadForward(const ShortcutPadGeometry& g, const float* x, float* y,
                               cudaStream_t stream);
cudaError_t ShortcutPadBackward(const ShortcutPadGeometry& g, const float* dy, float* dx,
                                cudaStream_t stream);

// The dropout mask's source (ops/dropout.h): element i of an op is kept iff value number
// first_position + i of the Philox4x32-10 stream of (key, counter words 1..3) is >= p.
struct DropoutStream {
  uint32_t key0, key1;  // the seed, low and high words
  uint32_t stream_tag;  // static_cast<uint32_t>(RngStream::kDropout) << 24
  uint32_t worker, step;
  uint64_t first_position;  // layer * 2^40
  float p;                  // drop probability
};
// out[i] = keep_i ? in[i] * scale : 0 (scale = 1 / (1 - p), computed by the caller in float
// exactly as the CPU kernel does). out may be in.
cudaError_t DropoutApply(const DropoutStream& stream_def, float scale, const float* in, float* out,
                         int64_t n, cudaStream_t stream);
// keep[i] = 1 or 0: the mask itself, for tests against DropoutKeepMask.
cudaError_t DropoutMask(const DropoutStream& stream_def, uint8_t* keep, int64_t n,
                        cudaStream_t stream);

}  // namespace ald::cuda::kernels
