// Consensus (mixing) kernels on flat f32 parameter buffers: y ← y + a·x, x ← a·x and the
// weighted sum out ← Σ_j w_j·in_j that every decentralized algorithm's combine step is made of.
// Each kernel is built once per buffer length (and input count) and takes its coefficients at
// every call, because mixing weights change from step to step (MATCHA's active degree,
// AL-DSGD's leaders), and a steady-state step must not build primitives.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace ald::cpu {

// y ← y + a·x on oneDNN's binary add, with a as a run-time scale of its second source.
class AxpyCpu {
 public:
  static absl::StatusOr<std::unique_ptr<AxpyCpu>> Create(int64_t length);
  // x may be y itself (y ← (1 + a)·y), but may not partly overlap it.
  absl::Status Run(float a, std::span<const float> x, std::span<float> y);

 private:
  int64_t length_ = 0;
  dnnl::memory::desc desc_, scalar_desc_;
  dnnl::binary add_;
};

// x ← a·x on oneDNN's binary multiply by a broadcast one-element tensor holding a.
// (eltwise_linear would need a fixed at creation.)
class ScaleCpu {
 public:
  static absl::StatusOr<std::unique_ptr<ScaleCpu>> Create(int64_t length);
  absl::Status Run(float a, std::span<float> x);

 private:
  int64_t length_ = 0;
  dnnl::memory::desc desc_, scalar_desc_;
  dnnl::binary multiply_;
};

// out ← Σ_j weights[j]·inputs[j] over `num_inputs` buffers of `length` floats, in one pass over
// memory. `out` may be one (or several) of the inputs: the mixing step x_i ← Σ_j W_ij·y_j
// overwrites y_i. Runs on the calling thread, unlike AxpyCpu and ScaleCpu, which run on
// oneDNN's OpenMP pool: when the cores are busy elsewhere (other in-process workers, the
// executor's backward pass), that pool's barrier can stall for a scheduler time slice (measured
// here: 8 ms for a 1 MB scale during a concurrent compile). With weights {1, a} (k = 2, out = y)
// or {a} (k = 1) this kernel is also an axpy or a scale that cannot stall that way.
class WeightedSumCpu {
 public:
  static absl::StatusOr<std::unique_ptr<WeightedSumCpu>> Create(int num_inputs, int64_t length);
  // `out` must be the same buffer as, or disjoint from, each input.
  absl::Status Run(std::span<const float> weights,
                   std::span<const std::span<const float>> inputs, std::span<float> out);

 private:
  int num_inputs_ = 0;
  int64_t length_ = 0;
  std::vector<const float*> input_data_;  // sized once, so Run does not allocate
};

}  // namespace ald::cpu
