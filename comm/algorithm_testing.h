// Test scaffolding for the algorithms: N in-process workers as threads, each with its own flat
// buffers, driven through the four hooks exactly as the step scheduler drives them.
#pragma once

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "comm/algorithm.h"
#include "comm/communicator.h"

namespace ald::testing {

// One worker's buffers, owned, with `bucket_sizes` tiling them in order.
struct TestWorker {
  std::vector<float> params, grads, momentum;
  std::vector<BucketSpan> buckets;

  TestWorker(std::vector<float> initial, const std::vector<size_t>& bucket_sizes);
  WorkerBuffers buffers();
};

// Runs body(rank, comm) on `workers` threads over one InprocWorld; returns the first error
// (each as "rank R: ..."). Every wait in the communicator has `timeout`, so nothing hangs.
absl::Status RunWorkers(int workers,
                        const std::function<absl::Status(int rank, Communicator& comm)>& body,
                        absl::Duration timeout = absl::Seconds(20));

// One step the way the scheduler runs it: BeginStep, OnBucketNeeded for buckets n-1..0 (the
// forward), `compute` (the gradient, if any), OnLoss, OnBucketReady for buckets 0..n-1 in
// order, EndStep. With options.defer_combine the caller must Flush before reading the
// parameters.
absl::Status RunStep(Algorithm& algorithm, int64_t step, const LocalStep& local, float loss,
                     int num_buckets, const std::function<void()>& compute = {});

}  // namespace ald::testing
