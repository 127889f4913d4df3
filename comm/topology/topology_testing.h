// Test helper: a Topology the test needs to exist (a failure to build it is a test failure).
#pragma once

#include "comm/topology/topology.h"
#include "gtest/gtest.h"

namespace ald::testing {

inline Topology MustCreateTopology(const NetworkGraph& graph, const TopologyOptions& options) {
  absl::StatusOr<Topology> topology = Topology::Create(graph, options);
  EXPECT_TRUE(topology.ok()) << topology.status();
  return *std::move(topology);
}

}  // namespace ald::testing
