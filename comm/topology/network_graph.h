// The undirected communication graph of the workers (who may talk to whom), its standard shapes,
// a topology-file reader and the parser of the `--topology` flag.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ald {

// An undirected edge between two worker ranks, stored with u < v.
struct Edge {
  int u = 0;
  int v = 0;
  bool operator==(const Edge& other) const { return u == other.u && v == other.v; }
  bool operator<(const Edge& other) const { return u != other.u ? u < other.u : v < other.v; }
};

// A set of pairwise disjoint edges: one round of pairwise exchanges.
using Matching = std::vector<Edge>;

// Whether a graph must be connected on its own. A graph that is one of a set of copies the
// topology cycles through (the authors' sparsest matcha8 pair) may be connected only in union
// with the others; Topology::Create checks that union.
enum class Connectivity { kRequired, kInUnionOnly };

// A simple, undirected graph on ranks 0..nodes-1, connected unless built with
// Connectivity::kInUnionOnly. Every NetworkGraph that exists has passed validation, so the
// algorithms never need to re-check it.
class NetworkGraph {
 public:
  // Checks ranks in range, no self-loops, no duplicate edges (either orientation) and
  // connectivity. `name` is what summaries print ("ring(8)").
  static absl::StatusOr<NetworkGraph> Create(int nodes, std::vector<Edge> edges, std::string name);

  // As Create, with a prescribed decomposition into matchings (used in that order by MATCHA):
  // every edge must lie in exactly one matching and the matchings must be matchings.
  static absl::StatusOr<NetworkGraph> CreateWithMatchings(
      int nodes, std::vector<Matching> matchings, std::string name,
      Connectivity connectivity = Connectivity::kRequired);

  int nodes() const { return static_cast<int>(neighbors_.size()); }
  int num_edges() const { return static_cast<int>(edges_.size()); }
  const std::vector<Edge>& edges() const { return edges_; }                       // sorted
  const std::vector<int>& neighbors(int node) const { return neighbors_[node]; }  // ascending
  int degree(int node) const { return static_cast<int>(neighbors_[node].size()); }
  int max_degree() const;
  std::vector<int> degrees() const;
  bool HasEdge(int a, int b) const;
  const std::string& name() const { return name_; }
  bool connected() const { return connected_; }

  // The prescribed matchings (empty unless the graph was built with CreateWithMatchings).
  const std::vector<Matching>& preset_matchings() const { return preset_matchings_; }

  // The same graph with node v renamed permutation[v]; preset matchings are carried along.
  absl::StatusOr<NetworkGraph> Relabelled(const std::vector<int>& permutation, std::string name) const;

 private:
  NetworkGraph() = default;
  static absl::StatusOr<NetworkGraph> Build(int nodes, std::vector<Edge> edges, std::string name,
                                            Connectivity connectivity);
  // What a relabelled copy must satisfy: what this graph satisfies.
  Connectivity connectivity() const {
    return connected_ ? Connectivity::kRequired : Connectivity::kInUnionOnly;
  }

  std::string name_;
  bool connected_ = true;
  std::vector<Edge> edges_;
  std::vector<std::vector<int>> neighbors_;
  std::vector<Matching> preset_matchings_;
};

// Orders an edge's endpoints so that u < v.
Edge MakeEdge(int a, int b);

// OK when the edges connect all `nodes` ranks; otherwise an error listing the components.
absl::Status CheckConnected(int nodes, const std::vector<Edge>& edges);

// Base graphs. Each returns an error (never aborts) on parameters that do not make a graph.
absl::StatusOr<NetworkGraph> RingGraph(int nodes);
// rows x cols torus with rows the largest divisor of `nodes` not above its square root (so
// 8 -> 2x4, 16 -> 4x4, 12 -> 3x4); a prime count gives 1 x n, i.e. a ring.
absl::StatusOr<NetworkGraph> TorusGraph(int nodes);
absl::StatusOr<NetworkGraph> CompleteGraph(int nodes);
absl::StatusOr<NetworkGraph> StarGraph(int nodes);  // centre 0
// A uniformly random simple connected d-regular graph (pairing model, resampled).
absl::StatusOr<NetworkGraph> RandomRegularGraph(int nodes, int degree, uint64_t seed);
// G(n, p), resampled until connected (bounded number of attempts).
absl::StatusOr<NetworkGraph> ErdosRenyiGraph(int nodes, double probability, uint64_t seed);
// The 8-node graph of the MATCHA and AL-DSGD papers, with their matchings M1..M5 in order.
NetworkGraph Matcha8Graph();

// Reads a topology file. Format (one item per line; `#` starts a comment; blank lines ignored):
//   nodes 8      optional, and only as the first item: the number of ranks
//   0 1          an undirected edge between ranks 0 and 1
// Without `nodes`, the node count is the largest rank + 1. Errors name `path:line`.
absl::StatusOr<NetworkGraph> ReadGraphFile(const std::string& path);

// Parses the `--topology` flag: ring | torus | complete | star | random-regular:D |
// erdos-renyi:P | matcha8 | matcha8-sparse:E (matcha8_sparse.h) | file:PATH. `nodes` is the number of workers; a graph whose node
// count differs (matcha8, a file) is an error. `seed` drives the random shapes.
absl::StatusOr<NetworkGraph> MakeTopology(const std::string& spec, int nodes, uint64_t seed);

}  // namespace ald
