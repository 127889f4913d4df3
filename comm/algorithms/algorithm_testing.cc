#include "comm/algorithms/algorithm_testing.h"

#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "comm/inproc_communicator.h"
#include "core/status.h"

namespace ald::testing {

TestWorker::TestWorker(std::vector<float> initial, const std::vector<size_t>& bucket_sizes)
    : params(std::move(initial)), grads(params.size(), 0.0f), momentum(params.size(), 0.0f) {
  size_t offset = 0;
  for (size_t size : bucket_sizes) {
    buckets.push_back({offset, size});
    offset += size;
  }
}

WorkerBuffers TestWorker::buffers() { return {params, grads, momentum, buckets}; }

absl::Status RunWorkers(int workers,
                        const std::function<absl::Status(int rank, Communicator& comm)>& body,
                        absl::Duration timeout) {
  CommOptions options;
  options.timeout = timeout;
  ASSIGN_OR_RETURN(std::shared_ptr<InprocWorld> world, InprocWorld::Create(workers, options));
  std::vector<std::unique_ptr<InprocCommunicator>> comms;
  for (int rank = 0; rank < workers; ++rank) {
    ASSIGN_OR_RETURN(std::unique_ptr<InprocCommunicator> comm, world->Join(rank));
    comms.push_back(std::move(comm));
  }
  std::mutex mutex;
  absl::Status first = absl::OkStatus();
  std::vector<std::thread> threads;
  for (int rank = 0; rank < workers; ++rank) {
    threads.emplace_back([&, rank] {
      absl::Status status = body(rank, *comms[rank]);
      if (!status.ok()) {
        comms[rank]->Abort();  // peers waiting on this rank fail fast instead of timing out
        std::lock_guard<std::mutex> lock(mutex);
        if (first.ok()) {
          first = absl::Status(status.code(), absl::StrCat("rank ", rank, ": ", status.message()));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return first;
}

absl::Status FakeStepPlan::Run(const DropoutKey& /*key*/) {
  for (int bucket = num_buckets_ - 1; bucket >= 0; --bucket) {
    if (signals_.bucket_needed) RETURN_IF_ERROR(signals_.bucket_needed(bucket));
  }
  if (compute_) compute_();
  if (signals_.loss_ready) RETURN_IF_ERROR(signals_.loss_ready(loss_));
  for (int bucket = 0; bucket < num_buckets_; ++bucket) {
    if (signals_.bucket_ready) RETURN_IF_ERROR(signals_.bucket_ready(bucket));
  }
  return absl::OkStatus();
}

absl::Status RunStep(Algorithm& algorithm, int64_t step, const LocalStep& local, float loss,
                     int num_buckets, const std::function<void()>& compute) {
  SchedulerHarness harness(algorithm, num_buckets, /*pipelined=*/false);
  return harness.Step(step, local, loss, compute);
}

}  // namespace ald::testing
