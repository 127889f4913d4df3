// The launch geometry of the hand-written kernels (kernels.cu, bf16_kernels.cu): blocks of
// kThreads threads, and enough blocks for a grid-stride loop over n elements.
#pragma once

#include <cstdint>

namespace ald::cuda::kernels {

inline constexpr int kThreads = 256;

// Blocks for n elements with a grid-stride loop: enough to fill the GPU, never more than n needs.
inline unsigned int Blocks(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks > 65535 ? 65535 : blocks));
}

}  // namespace ald::cuda::kernels
