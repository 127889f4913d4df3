// Test scaffolding for the D-PSGD, MATCHA and AL-DSGD tests: run an algorithm on N in-process
// workers for a few steps and keep every worker's parameters after every step.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/algorithms/algorithm.h"
#include "comm/topology/topology.h"

namespace ald::testing {

using MakeAlgorithm =
    std::function<absl::StatusOr<std::unique_ptr<Algorithm>>(const AlgorithmContext&)>;

struct GossipCase {
  const Topology* topology = nullptr;
  AlgorithmOptions options;
  std::vector<std::vector<float>> initial;  // x_0 of each rank
  std::vector<size_t> bucket_sizes;         // tiling every rank's buffers
  LocalStep local;
  std::vector<float> losses;  // each rank's loss, every step (zeros when empty)
  // Each rank's loss at a step, when set (instead of `losses`).
  std::function<float(int rank, int step)> loss_at;
  int steps = 1;
  // Steps pipelined (combines that may wait are deferred to the next forward) or sequential.
  bool pipelined = false;
  // Pipelined: whether to Flush after every step so that the history holds x_t (true), or
  // only after the last, leaving each combine to the next step's forward.
  bool flush_every_step = true;
  // Fills rank's gradient at x before a step; zero gradients when unset.
  std::function<void(int rank, std::span<const float> x, std::span<float> grads)> gradient;
};

struct GossipRun {
  // history[t][rank]: parameters after step t; history[0] is after Start(), before step 0.
  std::vector<std::vector<std::vector<float>>> history;
  std::vector<CommStats> stats;  // per rank, after the last step
  std::vector<LeaderCounts> leader_counts;  // per rank, after the last step (AL-DSGD)
  const std::vector<std::vector<float>>& final() const { return history.back(); }
};

absl::StatusOr<GossipRun> RunGossip(const MakeAlgorithm& make, const GossipCase& test_case);

// Gradient of the quadratic 0.5·‖x − c_rank‖² with a different centre per rank and element.
void QuadraticGradient(int rank, std::span<const float> x, std::span<float> grads);

// `count` floats in [-1, 1) drawn from `seed`.
std::vector<float> RandomVector(size_t count, uint64_t seed);

}  // namespace ald::testing
