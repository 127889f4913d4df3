// The AL-DSGD authors' sparser versions of matcha8 for their communication-constrained study:
// five density levels (12, 10, 9, 7 and 5 edges), each a pair of graphs whose second is the
// first relabelled as matcha8's partner (node v -> [3,4,7,0,1,6,5,2][v]). The sparsest pair's
// graphs are each disconnected and connected only in union, so they are usable as the K = 2
// graph copies of a run (--topology=matcha8-sparse:5 --graphs=2), never alone.
#pragma once

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/topology/network_graph.h"

namespace ald {

// The edge counts that have a pair, densest first: 12 (matcha8 itself), 10, 9, 7, 5.
std::vector<int> Matcha8SparseLevels();

// The first graph of the pair with `edges` edges, named "matcha8-sparse:E", with the authors'
// matchings in their order; InvalidArgument listing the levels for any other count.
absl::StatusOr<NetworkGraph> Matcha8SparseGraph(int edges);

// The authors' second graph of the pair whose first graph has `graph`'s edges (matcha8 included),
// named `name`; nullopt when `graph` is not one of the authors' first graphs.
std::optional<NetworkGraph> Matcha8SparsePartner(const NetworkGraph& graph, const std::string& name);

}  // namespace ald
