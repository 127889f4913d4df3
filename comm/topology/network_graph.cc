#include "comm/topology/network_graph.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "comm/topology/matcha8_sparse.h"
#include "core/rng.h"
#include "core/status.h"

namespace ald {
namespace {

// Random graph construction draws from the topology stream under a worker index that MATCHA's
// per-copy sampling (worker = copy index) never uses, so the two are independent.
constexpr uint32_t kConstructionWorker = 0xffffffffu;
constexpr int kMaxSamplingAttempts = 1000;

std::string EdgeString(int a, int b) { return absl::StrCat("(", a, ", ", b, ")"); }

// The components of the graph, each ascending, ordered by their smallest node.
std::vector<std::vector<int>> Components(int nodes, const std::vector<Edge>& edges) {
  std::vector<std::vector<int>> adjacency(nodes);
  for (const Edge& e : edges) {
    adjacency[e.u].push_back(e.v);
    adjacency[e.v].push_back(e.u);
  }
  std::vector<int> component_of(nodes, -1);
  std::vector<std::vector<int>> components;
  for (int start = 0; start < nodes; ++start) {
    if (component_of[start] >= 0) continue;
    const int id = static_cast<int>(components.size());
    std::vector<int> members{start};
    component_of[start] = id;
    for (size_t next = 0; next < members.size(); ++next) {
      for (int neighbor : adjacency[members[next]]) {
        if (component_of[neighbor] < 0) {
          component_of[neighbor] = id;
          members.push_back(neighbor);
        }
      }
    }
    std::sort(members.begin(), members.end());
    components.push_back(std::move(members));
  }
  return components;
}

std::string ComponentString(const std::vector<int>& members) {
  constexpr size_t kShown = 8;
  if (members.size() <= kShown) return absl::StrCat("{", absl::StrJoin(members, ", "), "}");
  return absl::StrCat("{", absl::StrJoin(members.begin(), members.begin() + kShown, ", "),
                      ", ... (", members.size(), " nodes)}");
}

// Parses a whole token as a non-negative int.
// A file's nodes are workers; far more would only make a typo cost minutes and gigabytes (the
// fuzzer's "0 11515117" took 11 s before failing as disconnected).
constexpr int kMaxFileNodes = 1 << 16;

bool ParseRank(const std::string& token, int* rank) {
  return absl::SimpleAtoi(token, rank) && *rank >= 0;
}

}  // namespace

Edge MakeEdge(int a, int b) { return a < b ? Edge{a, b} : Edge{b, a}; }

absl::Status CheckConnected(int nodes, const std::vector<Edge>& edges) {
  const std::vector<std::vector<int>> components = Components(nodes, edges);
  if (components.size() <= 1) return absl::OkStatus();
  std::vector<std::string> shown;
  for (size_t c = 0; c < components.size() && c < 4; ++c) {
    shown.push_back(ComponentString(components[c]));
  }
  if (components.size() > 4) shown.push_back("...");
  return absl::InvalidArgumentError(absl::StrCat("graph is disconnected: ", components.size(),
                                                 " components: ", absl::StrJoin(shown, ", ")));
}

absl::StatusOr<NetworkGraph> NetworkGraph::Create(int nodes, std::vector<Edge> edges, std::string name) {
  return Build(nodes, std::move(edges), std::move(name), Connectivity::kRequired);
}

absl::StatusOr<NetworkGraph> NetworkGraph::Build(int nodes, std::vector<Edge> edges,
                                                 std::string name, Connectivity connectivity) {
  if (nodes < 1) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": needs at least 1 node, got ", nodes));
  }
  NetworkGraph graph;
  graph.name_ = std::move(name);
  graph.neighbors_.resize(nodes);
  for (size_t i = 0; i < edges.size(); ++i) {
    const int a = edges[i].u, b = edges[i].v;
    const std::string where = absl::StrCat(graph.name_, ": edge ", i, " ", EdgeString(a, b));
    if (a < 0 || a >= nodes || b < 0 || b >= nodes) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " has a node outside [0, ", nodes, ")"));
    }
    if (a == b) return absl::InvalidArgumentError(absl::StrCat(where, " is a self-loop"));
    if (graph.HasEdge(a, b)) return absl::InvalidArgumentError(absl::StrCat(where, " repeats"));
    graph.neighbors_[a].push_back(b);
    graph.neighbors_[b].push_back(a);
    edges[i] = MakeEdge(a, b);
  }
  for (std::vector<int>& list : graph.neighbors_) std::sort(list.begin(), list.end());
  std::sort(edges.begin(), edges.end());
  absl::Status connected = CheckConnected(nodes, edges);
  if (!connected.ok() && connectivity == Connectivity::kRequired) {
    return absl::InvalidArgumentError(absl::StrCat(graph.name_, ": ", connected.message()));
  }
  graph.connected_ = connected.ok();
  graph.edges_ = std::move(edges);
  return graph;
}

absl::StatusOr<NetworkGraph> NetworkGraph::CreateWithMatchings(int nodes,
                                                               std::vector<Matching> matchings,
                                                               std::string name,
                                                               Connectivity connectivity) {
  std::vector<Edge> edges;
  for (size_t j = 0; j < matchings.size(); ++j) {
    std::vector<bool> covered(std::max(nodes, 0), false);
    for (Edge& e : matchings[j]) {
      e = MakeEdge(e.u, e.v);
      edges.push_back(e);
      if (e.u < 0 || e.v >= nodes) continue;  // Create reports the range error
      if (covered[e.u] || covered[e.v]) {
        return absl::InvalidArgumentError(absl::StrCat(name, ": matching ", j,
                                                       " is not a matching: ", EdgeString(e.u, e.v),
                                                       " shares a node with another of its edges"));
      }
      covered[e.u] = covered[e.v] = true;
    }
  }
  ASSIGN_OR_RETURN(NetworkGraph graph,
                   Build(nodes, std::move(edges), std::move(name), connectivity));
  graph.preset_matchings_ = std::move(matchings);
  return graph;
}

int NetworkGraph::max_degree() const {
  int result = 0;
  for (const std::vector<int>& list : neighbors_) {
    result = std::max(result, static_cast<int>(list.size()));
  }
  return result;
}

std::vector<int> NetworkGraph::degrees() const {
  std::vector<int> result;
  for (const std::vector<int>& list : neighbors_) result.push_back(static_cast<int>(list.size()));
  return result;
}

bool NetworkGraph::HasEdge(int a, int b) const {
  if (a < 0 || a >= nodes() || b < 0 || b >= nodes()) return false;
  const std::vector<int>& list = neighbors_[a];
  return std::find(list.begin(), list.end(), b) != list.end();
}

absl::StatusOr<NetworkGraph> NetworkGraph::Relabelled(const std::vector<int>& permutation,
                                        std::string name) const {
  std::vector<bool> seen(nodes(), false);
  if (static_cast<int>(permutation.size()) != nodes()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": relabelling has ", permutation.size(),
                                                   " entries for ", nodes(), " nodes"));
  }
  for (int image : permutation) {
    if (image < 0 || image >= nodes() || seen[image]) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": relabelling [",
                                                     absl::StrJoin(permutation, ", "),
                                                     "] is not a permutation of 0..", nodes() - 1));
    }
    seen[image] = true;
  }
  auto relabel = [&](const Edge& e) { return MakeEdge(permutation[e.u], permutation[e.v]); };
  if (!preset_matchings_.empty()) {
    std::vector<Matching> matchings = preset_matchings_;
    for (Matching& matching : matchings) {
      for (Edge& e : matching) e = relabel(e);
    }
    return CreateWithMatchings(nodes(), std::move(matchings), std::move(name), connectivity());
  }
  std::vector<Edge> edges;
  for (const Edge& e : edges_) edges.push_back(relabel(e));
  return Build(nodes(), std::move(edges), std::move(name), connectivity());
}

absl::StatusOr<NetworkGraph> RingGraph(int nodes) {
  std::vector<Edge> edges;
  if (nodes == 2) edges.push_back({0, 1});
  if (nodes >= 3) {
    for (int i = 0; i < nodes; ++i) edges.push_back(MakeEdge(i, (i + 1) % nodes));
  }
  return NetworkGraph::Create(nodes, std::move(edges), absl::StrCat("ring(", nodes, ")"));
}

absl::StatusOr<NetworkGraph> TorusGraph(int nodes) {
  if (nodes < 1)
    return absl::InvalidArgumentError(absl::StrCat("torus: needs at least 1 node, got ", nodes));
  int rows = static_cast<int>(std::sqrt(static_cast<double>(nodes)));
  while (rows * rows > nodes) --rows;
  while (nodes % rows != 0) --rows;
  const int cols = nodes / rows;
  auto rank = [cols](int r, int c) { return r * cols + c; };
  std::vector<Edge> edges;
  auto add = [&edges](int a, int b) {
    const Edge e = MakeEdge(a, b);
    // A side of length 2 wraps onto the edge it already has; length 1 has no edge at all.
    if (a != b && std::find(edges.begin(), edges.end(), e) == edges.end()) edges.push_back(e);
  };
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      add(rank(r, c), rank(r, (c + 1) % cols));
      add(rank(r, c), rank((r + 1) % rows, c));
    }
  }
  return NetworkGraph::Create(nodes, std::move(edges), absl::StrCat("torus(", rows, "x", cols, ")"));
}

absl::StatusOr<NetworkGraph> CompleteGraph(int nodes) {
  std::vector<Edge> edges;
  for (int a = 0; a < nodes; ++a) {
    for (int b = a + 1; b < nodes; ++b) edges.push_back({a, b});
  }
  return NetworkGraph::Create(nodes, std::move(edges), absl::StrCat("complete(", nodes, ")"));
}

absl::StatusOr<NetworkGraph> StarGraph(int nodes) {
  std::vector<Edge> edges;
  for (int leaf = 1; leaf < nodes; ++leaf) edges.push_back({0, leaf});
  return NetworkGraph::Create(nodes, std::move(edges), absl::StrCat("star(", nodes, ")"));
}

absl::StatusOr<NetworkGraph> RandomRegularGraph(int nodes, int degree, uint64_t seed) {
  const std::string name = absl::StrCat("random-regular(", nodes, ", d=", degree, ")");
  if (nodes < 2 || degree < 1 || degree >= nodes || (nodes * degree) % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": needs 1 <= d < n and n*d even, got n=", nodes, ", d=", degree));
  }
  if (degree == 1 && nodes > 2) {  // every 1-regular graph is a perfect matching: disconnected
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": a 1-regular graph on more than 2 nodes is disconnected; expected d >= 2"));
  }
  // Pairing model with local rejection (Steger & Wormald 1999): join two random free stubs
  // unless that makes a loop or a double edge; restart when no legal pair is left.
  for (int attempt = 0; attempt < kMaxSamplingAttempts; ++attempt) {
    Rng rng(seed, kConstructionWorker, static_cast<uint32_t>(attempt), RngStream::kTopology);
    std::vector<int> stubs;
    for (int v = 0; v < nodes; ++v) stubs.insert(stubs.end(), degree, v);
    std::vector<std::vector<bool>> adjacent(nodes, std::vector<bool>(nodes, false));
    std::vector<Edge> edges;
    auto legal = [&](size_t i, size_t j) {
      return stubs[i] != stubs[j] && !adjacent[stubs[i]][stubs[j]];
    };
    // A few random tries find a legal pair almost always; a full scan settles the rest.
    auto find_pair = [&](size_t* i, size_t* j) {
      const uint32_t count = static_cast<uint32_t>(stubs.size());
      for (int tries = 0; tries < 64; ++tries) {
        *i = rng.Below(count);
        *j = rng.Below(count);
        if (legal(*i, *j)) return true;
      }
      for (*i = 0; *i < stubs.size(); ++*i) {
        for (*j = *i + 1; *j < stubs.size(); ++*j) {
          if (legal(*i, *j)) return true;
        }
      }
      return false;
    };
    bool stuck = false;
    while (!stubs.empty()) {
      size_t i = 0, j = 0;
      if (!find_pair(&i, &j)) {
        stuck = true;
        break;
      }
      const int a = stubs[i], b = stubs[j];
      adjacent[a][b] = adjacent[b][a] = true;
      edges.push_back(MakeEdge(a, b));
      stubs.erase(stubs.begin() + std::max(i, j));
      stubs.erase(stubs.begin() + std::min(i, j));
    }
    if (stuck || !CheckConnected(nodes, edges).ok()) continue;
    return NetworkGraph::Create(nodes, std::move(edges), name);
  }
  // The value asked for, not the program, is at fault: such (n, d) are almost never connected.
  return absl::InvalidArgumentError(absl::StrCat(name, ": no simple connected sample in ",
                                                 kMaxSamplingAttempts,
                                                 " attempts; expected a larger d"));
}

absl::StatusOr<NetworkGraph> ErdosRenyiGraph(int nodes, double probability, uint64_t seed) {
  const std::string name = absl::StrCat("erdos-renyi(", nodes, ", p=", probability, ")");
  if (nodes < 1 || !(probability > 0.0 && probability <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": needs n >= 1 and 0 < p <= 1"));
  }
  for (int attempt = 0; attempt < kMaxSamplingAttempts; ++attempt) {
    Rng rng(seed, kConstructionWorker, static_cast<uint32_t>(attempt), RngStream::kTopology);
    std::vector<Edge> edges;
    for (int a = 0; a < nodes; ++a) {
      for (int b = a + 1; b < nodes; ++b) {
        if (static_cast<double>(rng.Uniform()) < probability) edges.push_back({a, b});
      }
    }
    if (CheckConnected(nodes, edges).ok()) return NetworkGraph::Create(nodes, std::move(edges), name);
  }
  // G(n, p) is connected with high probability only above the threshold ln(n)/n.
  return absl::InvalidArgumentError(absl::StrCat(
      name, ": every one of ", kMaxSamplingAttempts, " samples was disconnected; use p well above ",
      "ln(n)/n = ", std::log(static_cast<double>(nodes)) / nodes));
}

NetworkGraph Matcha8Graph() {
  std::vector<Matching> matchings = {
      {{1, 5}, {6, 7}, {0, 4}, {2, 3}},
      {{1, 7}, {3, 6}},
      {{1, 0}, {3, 7}, {5, 6}},
      {{1, 2}, {7, 0}},
      {{3, 1}},
  };
  absl::StatusOr<NetworkGraph> graph = NetworkGraph::CreateWithMatchings(8, std::move(matchings), "matcha8");
  return *std::move(graph);  // a constant that graph_test validates
}

absl::StatusOr<NetworkGraph> ReadGraphFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open topology file ", path));
  int nodes = -1;
  bool first_item = true;
  std::vector<Edge> edges;
  std::map<Edge, int> line_of_edge;
  int largest_rank = -1;
  std::string line;
  for (int line_number = 1; std::getline(file, line); ++line_number) {
    const std::string where = absl::StrCat(path, ":", line_number, ": ");
    std::istringstream tokens(line.substr(0, line.find('#')));
    std::vector<std::string> words;
    for (std::string word; tokens >> word;) words.push_back(word);
    if (words.empty()) continue;
    if (words[0] == "nodes") {
      if (!first_item) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "`nodes N` must be the first item of the file"));
      }
      first_item = false;
      if (words.size() != 2 || !absl::SimpleAtoi(words[1], &nodes) || nodes < 1 ||
          nodes > kMaxFileNodes) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, "expected `nodes N` with 1 <= N <= ", kMaxFileNodes, ", got '", line, "'"));
      }
      continue;
    }
    first_item = false;
    int a = 0, b = 0;
    if (words.size() != 2 || !ParseRank(words[0], &a) || !ParseRank(words[1], &b)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "expected an edge `u v` of two non-negative node ranks, got '", line, "'"));
    }
    if (std::max(a, b) >= kMaxFileNodes) {
      return absl::InvalidArgumentError(absl::StrCat(where, "node ", std::max(a, b),
                                                     " is out of range: a topology file has at "
                                                     "most ", kMaxFileNodes, " nodes"));
    }
    if (nodes > 0 && std::max(a, b) >= nodes) {
      return absl::InvalidArgumentError(absl::StrCat(where, "node ", std::max(a, b),
                                                     " is out of range: the file declares nodes ",
                                                     nodes, " (ranks 0..", nodes - 1, ")"));
    }
    if (a == b) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "edge ", EdgeString(a, b), " is a self-loop"));
    }
    const auto [it, inserted] = line_of_edge.emplace(MakeEdge(a, b), line_number);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "edge ", EdgeString(a, b), " repeats the edge on line ", it->second));
    }
    edges.push_back(MakeEdge(a, b));
    largest_rank = std::max({largest_rank, a, b});
  }
  if (nodes < 0) nodes = largest_rank + 1;
  if (nodes < 1) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no edges and no `nodes N` line"));
  }
  absl::Status connected = CheckConnected(nodes, edges);
  if (!connected.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", connected.message()));
  }
  return NetworkGraph::Create(nodes, std::move(edges), absl::StrCat("file:", path));
}

absl::StatusOr<NetworkGraph> MakeTopology(const std::string& spec, int nodes, uint64_t seed) {
  const size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string argument = colon == std::string::npos ? "" : spec.substr(colon + 1);
  const bool has_argument = colon != std::string::npos;
  auto no_argument = [&]() -> absl::Status {
    if (!has_argument) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("topology '", spec, "': ", kind, " takes no parameter"));
  };
  absl::StatusOr<NetworkGraph> graph = absl::InvalidArgumentError("unreachable");
  if (kind == "ring" || kind == "torus" || kind == "complete" || kind == "star" ||
      kind == "matcha8") {
    RETURN_IF_ERROR(no_argument());
    if (kind == "ring") graph = RingGraph(nodes);
    if (kind == "torus") graph = TorusGraph(nodes);
    if (kind == "complete") graph = CompleteGraph(nodes);
    if (kind == "star") graph = StarGraph(nodes);
    if (kind == "matcha8") graph = Matcha8Graph();
  } else if (kind == "random-regular") {
    int degree = 0;
    if (!absl::SimpleAtoi(argument, &degree)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "topology '", spec, "': expected random-regular:D with an integer degree D"));
    }
    graph = RandomRegularGraph(nodes, degree, seed);
  } else if (kind == "erdos-renyi") {
    double probability = 0.0;
    if (!absl::SimpleAtod(argument, &probability)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "topology '", spec, "': expected erdos-renyi:P with an edge probability P in (0, 1]"));
    }
    graph = ErdosRenyiGraph(nodes, probability, seed);
  } else if (kind == "matcha8-sparse") {
    int edges = 0;
    if (!absl::SimpleAtoi(argument, &edges)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "topology '", spec, "': expected matcha8-sparse:E with E one of ",
          absl::StrJoin(Matcha8SparseLevels(), ", "), " edges"));
    }
    graph = Matcha8SparseGraph(edges);
  } else if (kind == "file") {
    if (argument.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("topology '", spec, "': expected file:PATH"));
    }
    graph = ReadGraphFile(argument);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown topology '", spec,
        "'; expected ring, torus, complete, star, random-regular:D, erdos-renyi:P, matcha8, "
        "matcha8-sparse:E or file:PATH"));
  }
  if (!graph.ok()) return graph.status();
  if (graph->nodes() != nodes) {
    return absl::InvalidArgumentError(absl::StrCat("topology '", spec, "' has ", graph->nodes(),
                                                   " nodes but there are ", nodes, " workers"));
  }
  return graph;
}

}  // namespace ald
