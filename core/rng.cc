#include "core/rng.h"

#include <cmath>
#include <numbers>

#include "core/tensor.h"

namespace ald {

std::array<uint32_t, 4> Philox4x32(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key) {
  constexpr uint32_t kMultiplier0 = 0xD2511F53u, kMultiplier1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kWeyl0;
      key[1] += kWeyl1;
    }
    const uint64_t product0 = static_cast<uint64_t>(kMultiplier0) * counter[0];
    const uint64_t product1 = static_cast<uint64_t>(kMultiplier1) * counter[2];
    counter = {static_cast<uint32_t>(product1 >> 32) ^ counter[1] ^ key[0],
               static_cast<uint32_t>(product1),
               static_cast<uint32_t>(product0 >> 32) ^ counter[3] ^ key[1],
               static_cast<uint32_t>(product0)};
  }
  return counter;
}

Rng::Rng(uint64_t seed, uint32_t worker, uint32_t step, RngStream stream)
    : key_{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)},
      stream_(static_cast<uint32_t>(stream)),
      worker_(worker),
      step_(step) {}

uint32_t Rng::NextU32() {
  const uint64_t block = position_ / 4;
  if (block != block_index_) {
    // Counter words: block index (56 bits) with the stream in the top byte, worker, step.
    block_ = Philox4x32({static_cast<uint32_t>(block),
                         static_cast<uint32_t>((block >> 32) & 0x00ffffffu) | (stream_ << 24),
                         worker_, step_},
                        key_);
    block_index_ = block;
  }
  return block_[position_++ % 4];
}

float Rng::Uniform() { return static_cast<float>(NextU32() >> 8) * (1.0f / 16777216.0f); }

float Rng::Uniform(float low, float high) { return low + (high - low) * Uniform(); }

float Rng::Normal() {
  // Box-Muller on (0, 1] x [0, 1): the first draw is never 0, so the log is finite.
  const double u1 = (static_cast<double>(NextU32()) + 1.0) / 4294967296.0;
  const double u2 = static_cast<double>(NextU32()) / 4294967296.0;
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) *
                            std::cos(2.0 * std::numbers::pi * u2));
}

uint32_t Rng::Below(uint32_t bound) {
  // Lemire's multiply-and-reject: unbiased without a division in the common case.
  uint64_t product = static_cast<uint64_t>(NextU32()) * bound;
  uint32_t low = static_cast<uint32_t>(product);
  if (low < bound) {
    const uint32_t threshold = (0u - bound) % bound;
    while (low < threshold) {
      product = static_cast<uint64_t>(NextU32()) * bound;
      low = static_cast<uint32_t>(product);
    }
  }
  return static_cast<uint32_t>(product >> 32);
}

void Rng::Seek(uint64_t index) { position_ = index; }

void FillUniform(Tensor& tensor, float low, float high, Rng& rng) {
  for (float& value : tensor.values<float>()) value = rng.Uniform(low, high);
}

void FillNormal(Tensor& tensor, float mean, float stddev, Rng& rng) {
  for (float& value : tensor.values<float>()) value = mean + stddev * rng.Normal();
}

}  // namespace ald
