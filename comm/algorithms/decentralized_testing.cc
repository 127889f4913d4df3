#include "comm/algorithms/decentralized_testing.h"

#include <random>

#include "comm/algorithms/algorithm_testing.h"
#include "core/status.h"

namespace ald::testing {

absl::StatusOr<GossipRun> RunGossip(const MakeAlgorithm& make, const GossipCase& test_case) {
  const int n = static_cast<int>(test_case.initial.size());
  GossipRun run;
  run.history.assign(test_case.steps + 1, std::vector<std::vector<float>>(n));
  run.stats.resize(n);
  run.leader_counts.resize(n);
  // Each thread writes only its own rank's slots.
  RETURN_IF_ERROR(RunWorkers(n, [&](int rank, Communicator& comm) -> absl::Status {
    TestWorker worker(test_case.initial[rank], test_case.bucket_sizes);
    AlgorithmContext context{&comm, test_case.topology, worker.buffers(), test_case.options};
    ASSIGN_OR_RETURN(std::unique_ptr<Algorithm> algorithm, make(context));
    RETURN_IF_ERROR(algorithm->Start());
    run.history[0][rank] = worker.params;
    const float fixed_loss = test_case.losses.empty() ? 0.0f : test_case.losses[rank];
    SchedulerHarness harness(*algorithm, static_cast<int>(test_case.bucket_sizes.size()),
                             test_case.pipelined);
    for (int step = 0; step < test_case.steps; ++step) {
      const float loss = test_case.loss_at ? test_case.loss_at(rank, step) : fixed_loss;
      RETURN_IF_ERROR(harness.Step(step, test_case.local, loss, [&] {
        if (test_case.gradient) test_case.gradient(rank, worker.params, worker.grads);
      }));
      // A deferred combine finishes in the next step's forward; the history wants x_{t+1} now.
      // Flushing here instead changes nothing but the moment: the sums are the same.
      if (test_case.flush_every_step) RETURN_IF_ERROR(harness.Flush());
      run.history[step + 1][rank] = worker.params;
    }
    RETURN_IF_ERROR(harness.Flush());
    run.history[test_case.steps][rank] = worker.params;
    run.stats[rank] = algorithm->stats();
    if (algorithm->leader_counts() != nullptr) run.leader_counts[rank] = *algorithm->leader_counts();
    return absl::OkStatus();
  }));
  return run;
}

void QuadraticGradient(int rank, std::span<const float> x, std::span<float> grads) {
  for (size_t k = 0; k < x.size(); ++k) {
    grads[k] = x[k] - 0.25f * static_cast<float>(rank) + 0.125f * static_cast<float>(k);
  }
}

std::vector<float> RandomVector(size_t count, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float& value : values) value = uniform(engine);
  return values;
}

}  // namespace ald::testing
