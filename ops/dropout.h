// dropout (inverted): in training y = x * keep / (1 - p) with each element kept with
// probability 1 - p; in inference y = x. The keep mask is a pure function of
// (seed, worker, step, layer, element) drawn from core/rng.h, so the backward regenerates it
// instead of storing it: no mask buffer stays alive between forward and backward, at the cost
// of one Philox block per 4 elements, and a resumed run draws the same masks.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/rng.h"
#include "core/shape.h"

namespace ald {

struct DropoutAttrs {
  float p = 0.5f;  // drop probability, in [0, 1)
  // Tells the masks of several dropout ops of one step apart (the graph numbers them).
  uint32_t layer = 0;
};

// What a training step contributes to the mask.
struct DropoutKey {
  uint64_t seed = 0;
  uint32_t worker = 0;
  uint32_t step = 0;
};

// The output has the input's shape; rejects p outside [0, 1) (and NaN).
absl::StatusOr<Shape> DropoutShape(const Shape& input, const DropoutAttrs& attrs);

// The keep decisions of one dropout op in one step, from element `begin` on: element i is kept
// iff value number layer * 2^40 + i of the kDropout stream of (seed, worker, step) is >= p
// (Rng::Seek, so any range of elements can be generated on its own).
class DropoutKeepStream {
 public:
  static constexpr uint64_t kLayerStride = uint64_t{1} << 40;  // elements per op, at most

  DropoutKeepStream(const DropoutAttrs& attrs, const DropoutKey& key, int64_t begin = 0)
      : rng_(key.seed, key.worker, key.step, RngStream::kDropout), p_(attrs.p) {
    rng_.Seek(attrs.layer * kLayerStride + static_cast<uint64_t>(begin));
  }
  bool Next() { return rng_.Uniform() >= p_; }

 private:
  Rng rng_;
  float p_;
};

// The whole mask of `count` elements (1 = kept), for references and tests.
std::vector<uint8_t> DropoutKeepMask(const DropoutAttrs& attrs, const DropoutKey& key,
                                     int64_t count);

}  // namespace ald
