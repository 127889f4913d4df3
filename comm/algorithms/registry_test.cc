#include "comm/algorithms/registry.h"

#include <string>

#include "comm/algorithms/algorithm_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using ::testing::HasSubstr;

// All-reduce SGD sends gradients, and AD-PSGD's pairwise average must leave both sides the same
// bits: neither takes a bf16 wire, and the refusal names the flag, the algorithm and the choice.
TEST(RegistryTest, Bf16WireIsRefusedWhereNoModelsAreSent) {
  for (const char* name : {"allreduce", "adpsgd"}) {
    const absl::Status status =
        testing::RunWorkers(1, [&](int, Communicator& comm) -> absl::Status {
          testing::TestWorker worker({1, 2}, {2});
          AlgorithmContext context{&comm, nullptr, worker.buffers(), {}};
          context.options.wire = WireFormat::kBf16;
          return CreateAlgorithm(name, context).status();
        });
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(std::string(status.message()), HasSubstr("--wire=bf16 with --algo=" +
                                                         std::string(name)));
    EXPECT_THAT(std::string(status.message()), HasSubstr("--wire=fp32"));
  }
  EXPECT_EQ(ModelSendingAlgorithmList(), "dpsgd | matcha | aldsgd | easgd | lsgd");
}

}  // namespace
}  // namespace ald
