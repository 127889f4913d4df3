#include "comm/topology/network_graph.h"

#include <algorithm>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace ald {
namespace {

// Expects an error whose message contains `expected`.
void ExpectError(const absl::Status& status, const std::string& expected) {
  ASSERT_FALSE(status.ok()) << "expected an error containing: " << expected;
  EXPECT_NE(std::string(status.message()).find(expected), std::string::npos) << status;
}

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(GraphTest, RingTorusCompleteStarShapes) {
  const NetworkGraph ring = *RingGraph(8);
  EXPECT_EQ(ring.num_edges(), 8);
  EXPECT_EQ(ring.degrees(), std::vector<int>(8, 2));
  EXPECT_EQ(ring.neighbors(0), (std::vector<int>{1, 7}));
  EXPECT_EQ(RingGraph(2)->num_edges(), 1);

  const NetworkGraph torus16 = *TorusGraph(16);
  EXPECT_EQ(torus16.name(), "torus(4x4)");
  EXPECT_EQ(torus16.num_edges(), 32);
  EXPECT_EQ(torus16.degrees(), std::vector<int>(16, 4));
  EXPECT_EQ(TorusGraph(12)->name(), "torus(3x4)");
  // 2x4: the vertical wrap-around is the same edge as the vertical step, so degree 3.
  const NetworkGraph torus8 = *TorusGraph(8);
  EXPECT_EQ(torus8.name(), "torus(2x4)");
  EXPECT_EQ(torus8.degrees(), std::vector<int>(8, 3));
  EXPECT_EQ(TorusGraph(7)->name(), "torus(1x7)");  // prime: a ring
  EXPECT_EQ(TorusGraph(7)->num_edges(), 7);

  const NetworkGraph complete = *CompleteGraph(6);
  EXPECT_EQ(complete.num_edges(), 15);
  EXPECT_EQ(complete.degrees(), std::vector<int>(6, 5));

  const NetworkGraph star = *StarGraph(5);
  EXPECT_EQ(star.degrees(), (std::vector<int>{4, 1, 1, 1, 1}));
  EXPECT_EQ(star.max_degree(), 4);
}

TEST(GraphTest, Matcha8HasThePaperDegrees) {
  const NetworkGraph graph = Matcha8Graph();
  EXPECT_EQ(graph.nodes(), 8);
  EXPECT_EQ(graph.num_edges(), 12);
  EXPECT_EQ(graph.degrees(), (std::vector<int>{3, 5, 2, 4, 1, 2, 3, 4}));
  EXPECT_EQ(graph.preset_matchings().size(), 5u);
  EXPECT_TRUE(graph.HasEdge(3, 1));
  EXPECT_TRUE(graph.HasEdge(0, 7));
  EXPECT_FALSE(graph.HasEdge(0, 2));
}

TEST(GraphTest, RandomRegularIsRegularSeededAndConnected) {
  for (int degree : {3, 4, 7}) {
    absl::StatusOr<NetworkGraph> graph = RandomRegularGraph(16, degree, 11);
    ASSERT_TRUE(graph.ok()) << graph.status();
    EXPECT_EQ(graph->degrees(), std::vector<int>(16, degree));
    EXPECT_EQ(RandomRegularGraph(16, degree, 11)->edges(), graph->edges());  // same seed
  }
  EXPECT_NE(RandomRegularGraph(16, 3, 11)->edges(), RandomRegularGraph(16, 3, 12)->edges());
  ExpectError(RandomRegularGraph(7, 3, 1).status(), "n*d even");
  ExpectError(RandomRegularGraph(4, 4, 1).status(), "1 <= d < n");
  EXPECT_TRUE(RandomRegularGraph(2, 1, 1).ok());  // the one connected 1-regular graph
  const absl::Status matching = RandomRegularGraph(4, 1, 1).status();
  EXPECT_EQ(matching.code(), absl::StatusCode::kInvalidArgument);  // bad input: exit 2
  ExpectError(matching, "disconnected; expected d >= 2");
}

TEST(GraphTest, ErdosRenyiIsSeededAndConnected) {
  absl::StatusOr<NetworkGraph> graph = ErdosRenyiGraph(20, 0.3, 5);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(ErdosRenyiGraph(20, 0.3, 5)->edges(), graph->edges());
  // Expected 0.3 * 190 = 57 edges, standard deviation about 6.3: a wide, safe window.
  EXPECT_GT(graph->num_edges(), 30);
  EXPECT_LT(graph->num_edges(), 90);
  ExpectError(ErdosRenyiGraph(50, 0.001, 1).status(), "disconnected");
  ExpectError(ErdosRenyiGraph(10, 1.5, 1).status(), "0 < p <= 1");
}

TEST(GraphTest, CreateRejectsBadEdgesAndDisconnectedGraphs) {
  ExpectError(NetworkGraph::Create(4, {{0, 1}, {2, 2}}, "g").status(), "g: edge 1 (2, 2) is a self-loop");
  ExpectError(NetworkGraph::Create(4, {{0, 1}, {1, 4}}, "g").status(), "outside [0, 4)");
  ExpectError(NetworkGraph::Create(3, {{0, 1}, {1, 2}, {1, 0}}, "g").status(), "edge 2 (1, 0) repeats");
  ExpectError(NetworkGraph::Create(5, {{0, 1}, {1, 2}, {3, 4}}, "g").status(),
              "g: graph is disconnected: 2 components: {0, 1, 2}, {3, 4}");
  ExpectError(NetworkGraph::Create(3, {{0, 1}}, "g").status(), "{0, 1}, {2}");
  ExpectError(NetworkGraph::CreateWithMatchings(4, {{{0, 1}, {1, 2}}, {{2, 3}}}, "g").status(),
              "matching 0 is not a matching");
}

TEST(GraphTest, RelabelledKeepsDegreesAndMovesEdges) {
  const NetworkGraph star = *StarGraph(4);
  absl::StatusOr<NetworkGraph> moved = star.Relabelled({2, 0, 1, 3}, "moved");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->degrees(), (std::vector<int>{1, 1, 3, 1}));
  EXPECT_TRUE(moved->HasEdge(2, 0));
  ExpectError(star.Relabelled({0, 0, 1, 2}, "bad").status(), "not a permutation");
  // Preset matchings travel with the nodes.
  absl::StatusOr<NetworkGraph> matcha = Matcha8Graph().Relabelled({3, 4, 7, 0, 1, 6, 5, 2}, "copy1");
  ASSERT_TRUE(matcha.ok()) << matcha.status();
  EXPECT_EQ(matcha->preset_matchings()[4], (Matching{{0, 4}}));  // (3, 1) -> (0, 4)
}

TEST(GraphFileTest, ReadsEdgesCommentsAndNodeCount) {
  const std::string path = WriteFile("good.txt",
                                     "# a path of four nodes plus an isolated-looking rank\n"
                                     "nodes 5\n"
                                     "\n"
                                     "0 1   # first edge\n"
                                     "2 1\n"
                                     "2 3\n"
                                     "   3    4\n");
  absl::StatusOr<NetworkGraph> graph = ReadGraphFile(path);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->nodes(), 5);
  EXPECT_EQ(graph->edges(), (std::vector<Edge>{{0, 1}, {1, 2}, {2, 3}, {3, 4}}));
  // Without `nodes`, the largest rank decides.
  absl::StatusOr<NetworkGraph> implicit = ReadGraphFile(WriteFile("implicit.txt", "0 1\n1 2\n"));
  ASSERT_TRUE(implicit.ok()) << implicit.status();
  EXPECT_EQ(implicit->nodes(), 3);
}

TEST(GraphFileTest, ErrorsNameFileAndLine) {
  const std::string self_loop = WriteFile("topo.txt", "0 1\n1 2\n2 2\n");
  ExpectError(ReadGraphFile(self_loop).status(), self_loop + ":3: edge (2, 2) is a self-loop");
  const std::string garbage = WriteFile("garbage.txt", "# header\n0 1\n1 two\n");
  ExpectError(ReadGraphFile(garbage).status(), garbage + ":3: expected an edge `u v`");
  const std::string three = WriteFile("three.txt", "0 1 2\n");
  ExpectError(ReadGraphFile(three).status(), three + ":1: expected an edge `u v`");
  const std::string range = WriteFile("range.txt", "nodes 3\n0 1\n1 3\n");
  ExpectError(ReadGraphFile(range).status(), range + ":3: node 3 is out of range");
  // Found by tools/fuzz.sh: an id this large meant an 11.5M-node graph, 11 s to refuse.
  const std::string huge = WriteFile("huge.txt", "0  11515117\n");
  ExpectError(ReadGraphFile(huge).status(), huge + ":1: node 11515117 is out of range: a "
                                            "topology file has at most 65536 nodes");
  const std::string many = WriteFile("many.txt", "nodes 70000\n0 1\n");
  ExpectError(ReadGraphFile(many).status(), many + ":1: expected `nodes N` with 1 <= N <= 65536");
  const std::string duplicate = WriteFile("duplicate.txt", "0 1\n1 2\n\n1 0\n");
  ExpectError(ReadGraphFile(duplicate).status(),
              duplicate + ":4: edge (1, 0) repeats the edge on line 1");
  const std::string late = WriteFile("late.txt", "0 1\nnodes 2\n");
  ExpectError(ReadGraphFile(late).status(), late + ":2: `nodes N` must be the first item");
  const std::string bad_count = WriteFile("count.txt", "nodes -2\n");
  ExpectError(ReadGraphFile(bad_count).status(), bad_count + ":1: expected `nodes N`");
  const std::string split = WriteFile("split.txt", "nodes 4\n0 1\n2 3\n");
  ExpectError(ReadGraphFile(split).status(), split + ": graph is disconnected: 2 components");
  ExpectError(ReadGraphFile(WriteFile("empty.txt", "# nothing\n")).status(), "no edges");
  ExpectError(ReadGraphFile(::testing::TempDir() + "/missing.txt").status(), "cannot open");
}

TEST(MakeTopologyTest, ParsesEverySpelling) {
  EXPECT_EQ(MakeTopology("ring", 8, 0)->name(), "ring(8)");
  EXPECT_EQ(MakeTopology("torus", 16, 0)->name(), "torus(4x4)");
  EXPECT_EQ(MakeTopology("complete", 5, 0)->num_edges(), 10);
  EXPECT_EQ(MakeTopology("star", 5, 0)->degree(0), 4);
  EXPECT_EQ(MakeTopology("random-regular:3", 10, 1)->degrees(), std::vector<int>(10, 3));
  EXPECT_TRUE(MakeTopology("erdos-renyi:0.5", 10, 1).ok());
  EXPECT_EQ(MakeTopology("matcha8", 8, 0)->name(), "matcha8");
  const std::string path = WriteFile("flag.txt", "0 1\n1 2\n2 0\n");
  EXPECT_EQ(MakeTopology("file:" + path, 3, 0)->num_edges(), 3);
}

TEST(MakeTopologyTest, ClearErrors) {
  ExpectError(MakeTopology("hypercube", 8, 0).status(), "unknown topology 'hypercube'");
  ExpectError(MakeTopology("ring:3", 8, 0).status(), "ring takes no parameter");
  ExpectError(MakeTopology("random-regular:x", 8, 0).status(), "integer degree");
  ExpectError(MakeTopology("random-regular:3", 7, 0).status(), "n*d even");
  ExpectError(MakeTopology("erdos-renyi:", 8, 0).status(), "edge probability");
  ExpectError(MakeTopology("erdos-renyi:0", 8, 0).status(), "0 < p <= 1");
  ExpectError(MakeTopology("matcha8", 4, 0).status(), "has 8 nodes but there are 4 workers");
  ExpectError(MakeTopology("file:", 4, 0).status(), "expected file:PATH");
  ExpectError(MakeTopology("ring", 0, 0).status(), "at least 1 node");
}

}  // namespace
}  // namespace ald
