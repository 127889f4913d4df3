#include "comm/topology/matcha8_sparse.h"

#include <string>

#include "comm/topology/topology.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

const std::vector<int> kPartnerRelabelling = {3, 4, 7, 0, 1, 6, 5, 2};

NetworkGraph Partner(const NetworkGraph& graph) {
  std::optional<NetworkGraph> partner = Matcha8SparsePartner(graph, "partner");
  EXPECT_TRUE(partner.has_value()) << graph.name();
  return partner.value_or(graph);
}

TEST(Matcha8SparseTest, FiveLevelsWithTheirEdgeCountsAndMatchings) {
  EXPECT_EQ(Matcha8SparseLevels(), (std::vector<int>{12, 10, 9, 7, 5}));
  for (int edges : Matcha8SparseLevels()) {
    absl::StatusOr<NetworkGraph> graph = Matcha8SparseGraph(edges);
    ASSERT_TRUE(graph.ok()) << graph.status();
    EXPECT_EQ(graph->num_edges(), edges);
    EXPECT_EQ(graph->name(), "matcha8-sparse:" + std::to_string(edges));
    EXPECT_EQ(Partner(*graph).num_edges(), edges);
    // Each level removes edges from the one above: the levels are nested.
    for (int denser : Matcha8SparseLevels()) {
      if (denser <= edges) continue;
      for (const Edge& e : graph->edges()) {
        EXPECT_TRUE(Matcha8SparseGraph(denser)->HasEdge(e.u, e.v)) << edges << " in " << denser;
      }
    }
  }
  EXPECT_EQ(Matcha8SparseGraph(12)->edges(), Matcha8Graph().edges());
}

TEST(Matcha8SparseTest, EachPartnerIsTheFirstGraphRelabelledAsMatcha8s) {
  for (int edges : Matcha8SparseLevels()) {
    const NetworkGraph graph = *Matcha8SparseGraph(edges);
    absl::StatusOr<NetworkGraph> relabelled = graph.Relabelled(kPartnerRelabelling, "relabelled");
    ASSERT_TRUE(relabelled.ok()) << relabelled.status();
    const NetworkGraph partner = Partner(graph);
    EXPECT_EQ(partner.edges(), relabelled->edges()) << edges;
    EXPECT_EQ(partner.preset_matchings().size(), relabelled->preset_matchings().size());
  }
}

TEST(Matcha8SparseTest, OnlyTheSparsestPairIsDisconnectedAloneAndConnectedInUnion) {
  for (int edges : Matcha8SparseLevels()) {
    const NetworkGraph graph = *Matcha8SparseGraph(edges);
    const NetworkGraph partner = Partner(graph);
    EXPECT_EQ(graph.connected(), edges != 5) << edges;
    EXPECT_EQ(partner.connected(), edges != 5) << edges;
    std::vector<Edge> both = graph.edges();
    both.insert(both.end(), partner.edges().begin(), partner.edges().end());
    EXPECT_TRUE(CheckConnected(8, both).ok()) << edges;
  }
}

TEST(Matcha8SparseTest, ThePairIsARunsTwoGraphCopies) {
  TopologyOptions options;
  options.copies = 2;
  for (int edges : Matcha8SparseLevels()) {
    const NetworkGraph graph = *Matcha8SparseGraph(edges);
    absl::StatusOr<Topology> topology = Topology::Create(graph, options);
    ASSERT_TRUE(topology.ok()) << topology.status();
    EXPECT_EQ(topology->graph(1).edges(), Partner(graph).edges());
    // Every step's W still averages, with the disconnected copies' weights too.
    for (int64_t step = 0; step < 2; ++step) {
      EXPECT_TRUE(CheckMixingMatrix(topology->MixingMatrixAt(step), 1e-12).ok());
    }
  }
}

TEST(Matcha8SparseTest, TheSparsestGraphAloneIsRefusedSayingWhy) {
  const NetworkGraph graph = *Matcha8SparseGraph(5);
  TopologyOptions options;
  options.copies = 1;
  absl::StatusOr<Topology> alone = Topology::Create(graph, options);
  ASSERT_FALSE(alone.ok());
  EXPECT_THAT(std::string(alone.status().message()),
              HasSubstr("connected only in union with its partner: use 2 graph copies"));
  options.copies = 2;
  options.scheme = Scheme::kMatcha;
  options.budget = 0.5;
  absl::StatusOr<Topology> matcha = Topology::Create(graph, options);
  ASSERT_FALSE(matcha.ok());
  EXPECT_THAT(std::string(matcha.status().message()), HasSubstr("use the static scheme"));
  // The connected levels are fine alone, MATCHA included.
  EXPECT_TRUE(Topology::Create(*Matcha8SparseGraph(7), options).ok());
}

TEST(Matcha8SparseTest, TheFlagParsesLevelsAndRefusesOthers) {
  absl::StatusOr<NetworkGraph> graph = MakeTopology("matcha8-sparse:9", 8, 1);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->num_edges(), 9);
  EXPECT_THAT(std::string(MakeTopology("matcha8-sparse:6", 8, 1).status().message()),
              HasSubstr("have 12, 10, 9, 7, 5 edges"));
  EXPECT_THAT(std::string(MakeTopology("matcha8-sparse:x", 8, 1).status().message()),
              HasSubstr("expected matcha8-sparse:E"));
  EXPECT_THAT(std::string(MakeTopology("matcha8-sparse:5", 4, 1).status().message()),
              HasSubstr("has 8 nodes but there are 4 workers"));
}

TEST(Matcha8SparseTest, TheAlternatingScheduleConnectsOnlyTheDenserPairs) {
  TopologyOptions options;
  options.copies = 2;
  options.schedule = StaticSchedule::kAlternate;
  for (int edges : Matcha8SparseLevels()) {
    EXPECT_EQ(Topology::Create(*Matcha8SparseGraph(edges), options).ok(), edges >= 9) << edges;
  }
}

}  // namespace
}  // namespace ald
