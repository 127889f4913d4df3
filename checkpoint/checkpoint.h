// Training checkpoints: everything a worker needs to resume exactly where it stopped (its
// parameters, momentum, running statistics, step, RNG and data position, after llm.c's resume
// state), as one safetensors file per step in a directory with a "latest" pointer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "checkpoint/safetensors.h"

namespace ald {

// Tensors are views: saving reads the caller's tensors, RestoreInto writes into them.
struct TrainingState {
  std::string model;  // the registry name, e.g. "resnet20"
  int64_t step = 0;   // optimizer steps completed; names the file
  int64_t epoch = 0;
  int64_t step_in_epoch = 0;
  uint64_t seed = 0;
  int64_t worker = 0;
  // The RNG is counter-based (core/rng.h): (seed, worker, step) fix every stream, and this is
  // the position within the streams that run across steps.
  uint64_t rng_position = 0;
  int64_t data_position = 0;                 // samples of this epoch's order already consumed
  std::map<std::string, std::string> flags;  // the run's flags, to resume with the same ones

  // Stored under their own names; momentum buffers are named after their parameter and stored
  // as "optimizer/<name>", batch-norm running statistics as "running_stats/<name>", the
  // algorithm's state as "algorithm/<name>".
  std::vector<NamedTensor> parameters;
  std::vector<NamedTensor> optimizer_state;
  std::vector<NamedTensor> running_stats;
  // The distributed algorithm's own state (EASGD's center, ...), as "algorithm/<name>".
  std::vector<NamedTensor> algorithm_state;
};

// "checkpoint-<step>.safetensors"
std::string CheckpointFileName(int64_t step);

// Writes `dir`/checkpoint-<state.step>.safetensors (creating `dir`), then points `dir`/latest at
// it. Both replace atomically, and the pointer moves only after the checkpoint is on disk, so a
// crash at any moment leaves `latest` naming a complete checkpoint. Earlier checkpoints are
// kept. Decentralized workers hold different models: give each worker its own `dir`.
// Returns the checkpoint's path.
absl::StatusOr<std::string> SaveCheckpoint(const std::string& dir, const TrainingState& state);

// The file `path`/latest names when `path` is a directory, else `path`.
absl::StatusOr<std::string> ResolveCheckpoint(const std::string& path);

// The steps of the complete checkpoints in `dir` (every checkpoint-<step>.safetensors is
// complete: SaveCheckpoint publishes it atomically), ascending, up to the one `dir`/latest names.
// Errors as LoadCheckpoint's for a missing or damaged `latest`.
absl::StatusOr<std::vector<int64_t>> CheckpointSteps(const std::string& dir);

// Reads the checkpoint that `path`/latest names when `path` is a directory, else the file.
absl::StatusOr<TrainingState> LoadCheckpoint(const std::string& path);

// Copies `loaded` into `model`'s tensors and scalars, after checking that every tensor of
// `model` is in the file with the same dtype and shape and that the file has no others. A
// mismatch names the first offending tensor and changes nothing.
absl::Status RestoreInto(TrainingState& model, const TrainingState& loaded);

}  // namespace ald
