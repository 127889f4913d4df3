// A worker's model state: all trainable parameters in one flat f32 buffer, their gradients in a
// second of the same layout (and the optimizer's momentum in a third), plus the batch-norm
// running statistics. Parameters are laid out in the order their gradients become final during
// backward, so each communication bucket is one contiguous span (PyTorch DDP's reducer orders
// its buckets the same way) and the distributed algorithms work on flat vectors.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tensor.h"
#include "graph/autodiff.h"

namespace ald {

// A contiguous group of parameters whose gradients become final together.
struct Bucket {
  int index = 0;
  size_t offset = 0;  // in floats, into the flat buffers
  size_t size = 0;    // in floats
  std::vector<ValueId> parameters;
};

class ParameterStore {
 public:
  // Lays out the parameters of `training` and groups them into buckets of at most
  // `bucket_cap_bytes` (a single larger parameter gets a bucket of its own), and of at most
  // 1/min_buckets of all parameters, so that a model smaller than the cap is still split. With
  // min_buckets > 1 (a pipelined step) the last bucket, the first layers that the next forward
  // waits for before it can start, is at most a quarter of that size.
  static absl::StatusOr<std::unique_ptr<ParameterStore>> Create(const TrainingGraph& training,
                                                                size_t bucket_cap_bytes,
                                                                size_t min_buckets = 1);

  // Sets every parameter and running statistic from its initialisation rule; a pure function of
  // (seed, parameter), so every worker given the same seed starts from the same model.
  void Initialize(uint64_t seed);

  std::span<float> parameters() { return parameters_.values<float>(); }
  std::span<float> gradients() { return gradients_.values<float>(); }
  std::span<float> momentum() { return momentum_.values<float>(); }
  std::span<const float> parameters() const { return parameters_.values<float>(); }
  size_t size() const { return static_cast<size_t>(parameters_.num_elements()); }

  // Views of one value (a parameter, its gradient, or a running statistic) by graph id.
  bool Holds(ValueId value) const;
  Tensor& View(ValueId value) { return views_.at(value); }
  const std::vector<Bucket>& buckets() const { return buckets_; }
  // Parameters in layout order, with their graph names (for checkpoints).
  const std::vector<ValueId>& layout() const { return layout_; }
  const std::vector<ValueId>& running_stats() const { return running_stats_; }
  const std::string& name(ValueId value) const { return names_.at(value); }

 private:
  // Moves the last bucket's trailing parameters, at most `tail_floats` of them (at least one
  // parameter), into a bucket of their own.
  void SplitLastBucket(const ModelGraph& graph, size_t tail_floats);
  ParameterStore() = default;

  Tensor parameters_, gradients_, momentum_, running_;
  std::vector<ValueId> layout_, running_stats_;
  std::vector<Bucket> buckets_;
  std::vector<ParameterInit> inits_;  // by ValueId
  std::vector<Tensor> views_;         // by ValueId; undefined for values not held here
  std::vector<std::string> names_;
};

}  // namespace ald
