#include "comm/topology/matcha8_sparse.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ald {
namespace {

struct SparsePair {
  int edges;
  std::vector<Matching> first, second;
};

// Data, not code, from the authors' public repository HectorHHZ/Adjacent_Leader_Dencentralized_SGD,
// file MACHA_util_triple.py, select_graph(): graph ids 0/1 (12 edges, "100% degree"), 3/4
// (10 edges, "84.6%"), 6/7 (9 edges, "69.2%"), 9/10 (7 edges, "53.8%") and 12/13 (5 edges,
// "38.5%"), matchings and edges in the authors' order. (Their third graph of each level, which
// run_cuda_triple.py rotates in too, is left out: a run's copies beyond the second are found by
// this project's relabelling search, as for every other graph.)
const std::vector<SparsePair>& Pairs() {
  static const std::vector<SparsePair> pairs = {
      {12,
       {{{1, 5}, {6, 7}, {0, 4}, {2, 3}}, {{1, 7}, {3, 6}}, {{1, 0}, {3, 7}, {5, 6}},
        {{1, 2}, {7, 0}}, {{3, 1}}},
       {{{4, 6}, {5, 2}, {3, 1}, {7, 0}}, {{4, 2}, {0, 5}}, {{4, 3}, {0, 2}, {6, 5}},
        {{4, 7}, {2, 3}}, {{0, 4}}}},
      {10,
       {{{1, 5}, {0, 4}, {2, 3}}, {{1, 7}, {3, 6}}, {{1, 0}, {3, 7}, {5, 6}}, {{1, 2}, {7, 0}}},
       {{{4, 6}, {3, 1}, {7, 0}}, {{4, 2}, {0, 5}}, {{4, 3}, {0, 2}, {6, 5}}, {{4, 7}, {2, 3}}}},
      {9,
       {{{1, 5}, {0, 4}, {2, 3}}, {{3, 6}}, {{1, 0}, {3, 7}, {5, 6}}, {{1, 2}, {7, 0}}},
       {{{4, 6}, {3, 1}, {7, 0}}, {{0, 5}}, {{4, 3}, {0, 2}, {6, 5}}, {{4, 7}, {2, 3}}}},
      {7,
       {{{0, 4}, {2, 3}}, {{3, 6}}, {{1, 0}, {3, 7}, {5, 6}}, {{1, 2}}},
       {{{3, 1}, {7, 0}}, {{0, 5}}, {{4, 3}, {0, 2}, {6, 5}}, {{4, 7}}}},
      {5,
       {{{2, 3}}, {{3, 6}}, {{1, 0}, {5, 6}}, {{1, 2}}},
       {{{7, 0}}, {{0, 5}}, {{4, 3}, {6, 5}}, {{4, 7}}}},
  };
  return pairs;
}

// The authors' graphs are constants that matcha8_sparse_test validates.
NetworkGraph Build(const std::vector<Matching>& matchings, std::string name) {
  return *NetworkGraph::CreateWithMatchings(8, matchings, std::move(name),
                                            Connectivity::kInUnionOnly);
}

}  // namespace

std::vector<int> Matcha8SparseLevels() {
  std::vector<int> levels;
  for (const SparsePair& pair : Pairs()) levels.push_back(pair.edges);
  return levels;
}

absl::StatusOr<NetworkGraph> Matcha8SparseGraph(int edges) {
  for (const SparsePair& pair : Pairs()) {
    if (pair.edges == edges) return Build(pair.first, absl::StrCat("matcha8-sparse:", edges));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("the authors' sparse matcha8 pairs have ",
                   absl::StrJoin(Matcha8SparseLevels(), ", "), " edges, not ", edges));
}

std::optional<NetworkGraph> Matcha8SparsePartner(const NetworkGraph& graph,
                                                 const std::string& name) {
  if (graph.nodes() != 8) return std::nullopt;
  for (const SparsePair& pair : Pairs()) {
    if (Build(pair.first, "").edges() == graph.edges()) return Build(pair.second, name);
  }
  return std::nullopt;
}

}  // namespace ald
