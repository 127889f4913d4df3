// The communication schedule the distributed algorithms follow: for each step and worker, the
// neighbours to exchange with (in a deadlock-free order) and the mixing weights. Covers static
// D-PSGD, MATCHA's sampled matchings and AL-DSGD's cycle of K relabelled graph copies. Pure
// math: every worker builds the same Topology from the same options and never needs to talk
// to agree on it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "Eigen/Dense"
#include "absl/status/statusor.h"
#include "comm/topology/network_graph.h"
#include "comm/topology/matcha_schedule.h"
#include "comm/topology/mixing_weights.h"

namespace ald {

enum class Scheme {
  kStatic,  // D-PSGD: every matching of the step's graph copy active every step
  kMatcha,  // matching j active with probability p_j (MATCHA)
};

// Which of a copy's matchings the static scheme activates.
enum class StaticSchedule {
  kAll,  // every matching every step: D-PSGD proper (the default)
  // One matching per step, as the AL-DSGD authors' D-PSGD baseline (graph_manager.py,
  // FixedProcessor.set_flags): the n-th step on a copy activates its matching 1 when n is even
  // and its matching 0 when n is odd; matchings 2 and later never. On matcha8 this is one-peer
  // gossip that idles workers 0, 2, 4, 5 on every other step and, with one copy, never links
  // {0, 4} to the rest (refused, as any disconnected schedule); with the authors' second copy
  // the union over four steps is connected. On the authors' sparse pairs (matcha8_sparse.h) it
  // is connected for 12, 10 and 9 edges, never for 7 and 5.
  kAlternate,
};

struct TopologyOptions {
  Scheme scheme = Scheme::kStatic;
  StaticSchedule schedule = StaticSchedule::kAll;  // kStatic only
  double budget = 1.0;  // MATCHA's c_b in (0, 1]; ignored by kStatic
  int copies = 1;       // K graph copies; step t uses copy t mod K (AL-DSGD's dynamic graphs)
  uint64_t seed = 0;    // drives MATCHA's schedule and the relabelling search
  // Edge weights for kStatic. kMatcha always uses its optimised alpha (best-constant only).
  WeightRule weights = WeightRule::kBestConstant;
};

struct ActiveNeighbor {
  int rank = 0;
  double weight = 0.0;  // W_ij for this step
  int matching = 0;     // index into the copy's matchings: the exchange happens in that round
};

// What one worker does in one step.
struct Neighborhood {
  int copy = 0;                           // which graph copy is in force
  std::vector<int> active_matchings;      // ascending; the same on every worker
  std::vector<ActiveNeighbor> neighbors;  // exchange order: ascending matching index
  double self_weight = 1.0;               // W_ii = 1 - sum of the neighbours' weights
  int degree() const { return static_cast<int>(neighbors.size()); }  // d_i(t)
};

class Topology {
 public:
  // Builds the K copies (copy 0 is `base`), their matchings, probabilities and weights, and
  // checks that the union of the copies' expected graphs is connected.
  static absl::StatusOr<Topology> Create(const NetworkGraph& base, const TopologyOptions& options);

  int nodes() const { return copies_.front().graph.nodes(); }
  int num_copies() const { return static_cast<int>(copies_.size()); }
  const TopologyOptions& options() const { return options_; }
  const NetworkGraph& graph(int copy) const { return copies_[copy].graph; }
  // Matchings, activation probabilities (all 1 for kStatic), alpha, lambda_2, rho of a copy.
  // For kStatic with Metropolis-Hastings or uniform weights, alpha is 0 (weights vary per edge;
  // ActiveNeighbor::weight has them) and rho is (1 - spectral gap)^2.
  const MatchaPlan& plan(int copy) const { return copies_[copy].plan; }

  int CopyAt(int64_t step) const { return static_cast<int>(step % num_copies()); }
  std::vector<int> ActiveMatchings(int64_t step) const;
  absl::StatusOr<Neighborhood> NeighborhoodAt(int64_t step, int worker) const;
  std::vector<int> ActiveDegrees(int64_t step) const;  // d_i(t) of every worker
  // The W in force at `step` (rows agree with NeighborhoodAt); for tests and diagnostics.
  Eigen::MatrixXd MixingMatrixAt(int64_t step) const;

  // One line for the training binary.
  std::string Describe() const;

 private:
  struct Copy {
    NetworkGraph graph;
    MatchaPlan plan;
    // partner[j][v]: v's partner in matching j or -1; weight[j][v]: that edge's weight.
    std::vector<std::vector<int>> partner;
    std::vector<std::vector<double>> weight;
  };
  Topology(TopologyOptions options, std::vector<Copy> copies)
      : options_(options), copies_(std::move(copies)) {}

  TopologyOptions options_;
  std::vector<Copy> copies_;
};

// K node-relabelled copies of `base` (copy 0 is `base` itself). matcha8's copy 1 is the
// authors' graph 1 (node v -> [3,4,7,0,1,6,5,2][v]); otherwise each further copy's relabelling
// is chosen by a seeded local search over permutations to add as many node pairs not yet
// covered by the earlier copies as it can.
absl::StatusOr<std::vector<NetworkGraph>> RelabelledCopies(const NetworkGraph& base, int copies, uint64_t seed);

// The number of distinct node pairs that are an edge in at least one of the graphs.
int CoveredPairs(const std::vector<NetworkGraph>& graphs);

}  // namespace ald
