// Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11). A value is a pure function
// of (seed, worker, step, stream, position), so initialisation, shuffling and dropout are
// reproducible on any number of workers and after a resume, without carrying generator state.
#pragma once

#include <array>
#include <cstdint>

namespace ald {

class Tensor;

// What the numbers are for; each purpose draws from its own independent stream.
enum class RngStream : uint32_t {
  kInit = 1,      // parameter initialisation
  kShuffle = 2,   // data order
  kDropout = 3,   // dropout masks
  kAugment = 4,   // data augmentation
  kTopology = 5,  // sampled communication graphs (MATCHA)
  kPartition = 6,  // a fixed split of the data among the workers (data/partition.h)
  kShardOrder = 7, // a worker's walk through its fixed shard, per epoch
  kTest = 15,     // tests and benchmarks
};

// One Philox4x32-10 block: four 32-bit words from a 128-bit counter and a 64-bit key.
std::array<uint32_t, 4> Philox4x32(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

class Rng {
 public:
  Rng(uint64_t seed, uint32_t worker, uint32_t step, RngStream stream);

  uint32_t NextU32();
  float Uniform();                    // in [0, 1), 24 random bits
  float Uniform(float low, float high);
  float Normal();                     // standard normal (Box-Muller)
  uint32_t Below(uint32_t bound);     // uniform in [0, bound), unbiased; bound > 0

  // Moves to the `index`-th 32-bit value of this stream (for splitting work deterministically).
  void Seek(uint64_t index);
  uint64_t position() const { return position_; }

 private:
  std::array<uint32_t, 2> key_;
  uint32_t stream_, worker_, step_;
  uint64_t position_ = 0;  // index of the next 32-bit value
  std::array<uint32_t, 4> block_{};
  uint64_t block_index_ = ~uint64_t{0};  // which block block_ holds
};

// Fills an f32 tensor with U(low, high) / N(mean, stddev) values from `rng`.
void FillUniform(Tensor& tensor, float low, float high, Rng& rng);
void FillNormal(Tensor& tensor, float mean, float stddev, Rng& rng);

}  // namespace ald
