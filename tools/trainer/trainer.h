// The training loop behind //tools:train: loads the data once, compiles one plan per worker,
// and runs steps (forward, backward, and the local update or the distributed algorithm's
// hooks), evaluations, metrics, checkpoints and exact resumption.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "tools/trainer/train_config.h"

namespace ald {

struct TrainResult {
  int64_t workers = 0;        // workers that trained: --workers in process, the MPI size under mpirun
  int64_t steps = 0;          // optimizer steps completed (including resumed ones)
  int64_t epochs = 0;         // epochs started
  double final_train_loss = 0;  // mean over the last epoch's steps (rank 0)
  double test_accuracy = 0;     // mean over workers of each worker's own model, a fraction
  double min_test_accuracy = 0, max_test_accuracy = 0;
  double average_model_accuracy = -1;  // the average of the workers' models (several workers)
  double consensus_distance = 0;       // mean_i |x_i - x_bar| / |x_bar|
  double images_per_second = 0;        // all workers together
  double wall_seconds = 0;
  int64_t bytes_sent_per_worker = 0;
  // --comm=mpi: CPU time of this process's MPI progress thread over the whole run (what keeping
  // communication moving costs the cores that compute).
  double progress_thread_cpu_seconds = 0;
};

// Runs the training that `config` describes; every worker of an in-process run is a thread.
absl::StatusOr<TrainResult> Train(const TrainConfig& config);

}  // namespace ald
