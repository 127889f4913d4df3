// Runs a batch producer on its own thread, a bounded number of batches ahead of the consumer, so
// reading, normalising and augmenting the next batch overlaps the current training step.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace ald {

class BatchPrefetcher {
 public:
  // Fills the batch of one position (a global step); called on the prefetch thread only, for
  // positions first_position, first_position + 1, ... in order.
  using Produce = std::function<absl::Status(int64_t position, std::span<float> images,
                                             std::span<int32_t> labels)>;

  // Starts producing at once. A batch is `image_floats` floats and `label_count` labels.
  BatchPrefetcher(Produce produce, int64_t first_position, int64_t image_floats,
                  int64_t label_count, int depth = 2);
  // Stops the producer and joins it, however many batches are still queued.
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // Copies the next position's batch out (sized as above), waiting for the producer if needed.
  // Once the producer fails, the batches before the failure come out, then its error, for good.
  absl::Status Next(std::span<float> images, std::span<int32_t> labels);

 private:
  struct Buffers {
    std::vector<float> images;
    std::vector<int32_t> labels;
  };

  void Run(int64_t first_position);
  bool HasRoomOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  bool HasBatchOrFailed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const Produce produce_;
  const int64_t image_floats_;
  const int64_t label_count_;
  const size_t depth_;
  absl::Mutex mutex_;
  std::deque<Buffers> ready_ ABSL_GUARDED_BY(mutex_);
  std::vector<Buffers> spare_ ABSL_GUARDED_BY(mutex_);  // consumed buffers, reused
  absl::Status error_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace ald
