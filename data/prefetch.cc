#include "data/prefetch.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ald {

BatchPrefetcher::BatchPrefetcher(Produce produce, int64_t first_position, int64_t image_floats,
                                 int64_t label_count, int depth)
    : produce_(std::move(produce)),
      image_floats_(image_floats),
      label_count_(label_count),
      depth_(static_cast<size_t>(std::max(depth, 1))),
      thread_([this, first_position] { Run(first_position); }) {}

BatchPrefetcher::~BatchPrefetcher() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  thread_.join();
}

bool BatchPrefetcher::HasRoomOrStopping() const { return stopping_ || ready_.size() < depth_; }

bool BatchPrefetcher::HasBatchOrFailed() const { return !ready_.empty() || !error_.ok(); }

void BatchPrefetcher::Run(int64_t first_position) {
  for (int64_t position = first_position;; ++position) {
    Buffers buffers;
    {
      absl::MutexLock lock(&mutex_);
      mutex_.Await(absl::Condition(this, &BatchPrefetcher::HasRoomOrStopping));
      if (stopping_) return;
      if (!spare_.empty()) {
        buffers = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    buffers.images.resize(image_floats_);
    buffers.labels.resize(label_count_);
    // Produced without the lock, so the consumer can take earlier batches meanwhile.
    absl::Status status = produce_(position, buffers.images, buffers.labels);
    absl::MutexLock lock(&mutex_);
    if (!status.ok()) {
      error_ = std::move(status);
      return;
    }
    ready_.push_back(std::move(buffers));
  }
}

absl::Status BatchPrefetcher::Next(std::span<float> images, std::span<int32_t> labels) {
  if (images.size() != static_cast<size_t>(image_floats_) ||
      labels.size() != static_cast<size_t>(label_count_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("prefetched batches hold ", image_floats_, " image floats and ", label_count_,
                     " labels; asked to fill ", images.size(), " and ", labels.size()));
  }
  Buffers buffers;
  {
    absl::MutexLock lock(&mutex_);
    mutex_.Await(absl::Condition(this, &BatchPrefetcher::HasBatchOrFailed));
    if (ready_.empty()) return error_;
    buffers = std::move(ready_.front());
    ready_.pop_front();
  }
  std::copy(buffers.images.begin(), buffers.images.end(), images.begin());
  std::copy(buffers.labels.begin(), buffers.labels.end(), labels.begin());
  absl::MutexLock lock(&mutex_);
  spare_.push_back(std::move(buffers));
  return absl::OkStatus();
}

}  // namespace ald
