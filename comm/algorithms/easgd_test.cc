#include "comm/algorithms/easgd.h"

#include <cmath>
#include <vector>

#include "comm/algorithms/algorithm_testing.h"
#include "core/status.h"
#include "gtest/gtest.h"
#include "ops/sgd.h"

namespace ald {
namespace {

using ::ald::testing::RunStep;
using ::ald::testing::RunWorkers;
using ::ald::testing::TestWorker;

const std::vector<size_t> kBuckets = {1, 2};

void ExpectNear(const std::vector<float>& actual, const std::vector<float>& expected,
                const char* what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t e = 0; e < actual.size(); ++e) {
    EXPECT_NEAR(actual[e], expected[e], 1e-5f) << what << ", element " << e;
  }
}

// Two workers, β = 0.5 (α = β/n = 0.25), τ = 1, γ = 0.1, plain SGD, no sync_init:
//   x_0 = [0, 0, 0], g_0 = [1, 2, 3];  x_1 = [4, 8, -4], g_1 = [-1, 0, 1];  x̃ = mean = [2, 4, -2].
// Step 0 (mean of the pre-step models = [2, 4, -2]):
//   x_0 ← [0 - 0.1 - 0.25·(0 - 2), 0 - 0.2 - 0.25·(0 - 4), 0 - 0.3 - 0.25·(0 + 2)]
//       = [0.4, 0.8, -0.8]
//   x_1 ← [4 + 0.1 - 0.25·2, 8 - 0 - 0.25·4, -4 - 0.1 - 0.25·(-2)] = [3.6, 7, -3.6]
//   x̃  ← 0.5·x̃ + 0.5·[2, 4, -2] = [2, 4, -2]
// Step 1 (mean of the pre-step models = [2, 3.9, -2.2]):
//   x_0 ← [0.4 - 0.1 + 0.4, 0.8 - 0.2 + 0.8, -0.8 - 0.3 - 0.3] = [0.7, 1.4, -1.4]
//   x_1 ← [3.6 + 0.1 - 0.4, 7 - 0.75, -3.6 - 0.1 + 0.4] = [3.3, 6.25, -3.3]
//   x̃  ← 0.5·[2, 4, -2] + 0.5·[2, 3.9, -2.2] = [2, 3.95, -2.1]
// Using the post-step models in either update would give other numbers.
TEST(EasgdTest, ElasticPullAndCenterUpdateUseThePreStepModels) {
  const std::vector<std::vector<float>> initial = {{0, 0, 0}, {4, 8, -4}};
  const std::vector<std::vector<float>> grads = {{1, 2, 3}, {-1, 0, 1}};
  const std::vector<std::vector<std::vector<float>>> expected_params = {
      {{0.4f, 0.8f, -0.8f}, {0.7f, 1.4f, -1.4f}}, {{3.6f, 7, -3.6f}, {3.3f, 6.25f, -3.3f}}};
  const std::vector<std::vector<float>> expected_center = {{2, 4, -2}, {2, 3.95f, -2.1f}};
  std::vector<std::vector<std::vector<float>>> params(2), centers(2);
  const absl::Status status = RunWorkers(2, [&](int rank, Communicator& comm) -> absl::Status {
    TestWorker worker(initial[rank], kBuckets);
    AlgorithmOptions options;
    options.easgd_beta = 0.5;
    options.tau = 1;
    options.sync_init = false;
    ASSIGN_OR_RETURN(std::unique_ptr<Easgd> easgd,
                     Easgd::Create({&comm, nullptr, worker.buffers(), options}));
    RETURN_IF_ERROR(easgd->Start());
    centers[rank].push_back(easgd->center());
    for (int step = 0; step < 2; ++step) {
      worker.grads = grads[rank];
      RETURN_IF_ERROR(RunStep(*easgd, step, {.lr = 0.1f}, 1.0f, kBuckets.size()));
      params[rank].push_back(worker.params);
      centers[rank].push_back(easgd->center());
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  for (int rank = 0; rank < 2; ++rank) {
    ExpectNear(centers[rank][0], {2, 4, -2}, "initial center");
    for (int step = 0; step < 2; ++step) {
      ExpectNear(params[rank][step], expected_params[rank][step], "params");
      ExpectNear(centers[rank][step + 1], expected_center[step], "center");
    }
  }
  EXPECT_EQ(centers[0], centers[1]);  // the same center on every worker, to the bit
}

TEST(EasgdTest, CenterStartsAtRankZerosModelWithSyncInit) {
  const absl::Status status = RunWorkers(3, [&](int rank, Communicator& comm) -> absl::Status {
    TestWorker worker({1.0f + rank, 2.0f, 3.0f}, kBuckets);
    ASSIGN_OR_RETURN(std::unique_ptr<Easgd> easgd,
                     Easgd::Create({&comm, nullptr, worker.buffers(), {}}));
    RETURN_IF_ERROR(easgd->Start());
    EXPECT_EQ(worker.params, (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(easgd->center(), (std::vector<float>{1, 2, 3}));
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
}

// With τ = 3, only steps 0, 3, 6 communicate (one all-reduce per bucket); the others are plain
// local SGD steps, and the center does not move.
TEST(EasgdTest, CommunicatesOnlyEveryTauSteps) {
  constexpr int kSteps = 7;
  const absl::Status status = RunWorkers(4, [&](int rank, Communicator& comm) -> absl::Status {
    TestWorker worker({1.0f * rank, -2.0f, 0.5f * rank}, kBuckets);
    AlgorithmOptions options;
    options.tau = 3;
    options.sync_init = false;
    ASSIGN_OR_RETURN(std::unique_ptr<Easgd> easgd,
                     Easgd::Create({&comm, nullptr, worker.buffers(), options}));
    RETURN_IF_ERROR(easgd->Start());
    const LocalStep local{.lr = 0.1f, .momentum = 0.5f, .weight_decay = 0.01f};
    const cpu::SgdConfig config{local.lr, local.momentum, local.nesterov, local.weight_decay};
    for (int step = 0; step < kSteps; ++step) {
      worker.grads = {0.1f * rank, 0.2f * step, -0.3f};
      std::vector<float> local_params = worker.params, local_momentum = worker.momentum;
      RETURN_IF_ERROR(cpu::SgdStep(config, local_params, worker.grads, local_momentum));
      const std::vector<float> center_before = easgd->center();
      const int64_t messages_before = easgd->stats().messages_sent;
      RETURN_IF_ERROR(RunStep(*easgd, step, local, 1.0f, kBuckets.size()));
      const bool communicates = step % 3 == 0;
      EXPECT_EQ(easgd->stats().messages_sent - messages_before, communicates ? 2 : 0)
          << "step " << step;
      if (!communicates) {
        EXPECT_EQ(worker.params, local_params) << "step " << step;
        EXPECT_EQ(easgd->center(), center_before) << "step " << step;
      }
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
}

void ExpectCenterTowardRoundedModels(WireFormat wire) {
  const std::vector<std::vector<float>> initial = {{0.1f, 0.2f, 0.3f}, {4.1f, 8.1f, -4.1f}};
  std::vector<std::vector<float>> centers(2);
  std::vector<int64_t> step_bytes(2);
  const absl::Status status = RunWorkers(2, [&](int rank, Communicator& comm) -> absl::Status {
    TestWorker worker(initial[rank], kBuckets);
    AlgorithmOptions options;
    options.easgd_beta = 0.5;
    options.sync_init = false;
    options.wire = wire;
    options.seed = 9;
    ASSIGN_OR_RETURN(std::unique_ptr<Easgd> easgd,
                     Easgd::Create({&comm, nullptr, worker.buffers(), options}));
    RETURN_IF_ERROR(easgd->Start());
    const int64_t before = easgd->stats().bytes_sent;
    RETURN_IF_ERROR(RunStep(*easgd, 0, {.lr = 0.1f}, 1.0f, kBuckets.size()));
    step_bytes[rank] = easgd->stats().bytes_sent - before;
    centers[rank] = easgd->center();
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(centers[0], centers[1]);
  for (size_t e = 0; e < 3; ++e) {
    const double exact = 0.5 * (initial[0][e] + initial[1][e]);
    double rounded = 0;
    for (int sender = 0; sender < 2; ++sender) {
      const WireRounding rounding{WireRoundingKey(9, 0, sender, WireStream::kEasgdMean), e};
      rounded += 0.5 * RoundForWire(wire, initial[sender][e], rounding);
    }
    EXPECT_NEAR(centers[0][e], 0.5 * exact + 0.5 * rounded, 1e-6) << "element " << e;
    EXPECT_GT(std::abs(centers[0][e] - exact), 1e-4) << "element " << e;
  }
  EXPECT_EQ(step_bytes[0], 3 * 2);  // 3 floats at 2 bytes (fp32: 12)
}

// --wire=bf16: the center moves toward the mean of every worker's model rounded to bf16 (the
// own too, so the shared center keeps the same bits everywhere), at half the bytes. Two
// workers, β = 0.5, zero gradients, models that are not bf16 numbers; the start's mean (no
// sync_init) is exact, so x̃_1 = 0.5·mean(x) + 0.5·mean(b(x)), b as each sender's key draws.
TEST(EasgdTest, Bf16WireMovesTheCenterTowardTheRoundedModels) {
  for (const WireFormat wire : {WireFormat::kBf16, WireFormat::kBf16Nearest}) {
    SCOPED_TRACE(WireFormatName(wire));
    ExpectCenterTowardRoundedModels(wire);
  }
}

TEST(EasgdTest, RejectsBadOptions) {
  const absl::Status status = RunWorkers(1, [&](int, Communicator& comm) -> absl::Status {
    TestWorker worker({1, 2, 3}, kBuckets);
    AlgorithmOptions options;
    options.easgd_beta = 1.5;
    EXPECT_EQ(Easgd::Create({&comm, nullptr, worker.buffers(), options}).status().code(),
              absl::StatusCode::kInvalidArgument);
    options.easgd_beta = 0.9;
    options.tau = 0;
    EXPECT_EQ(Easgd::Create({&comm, nullptr, worker.buffers(), options}).status().code(),
              absl::StatusCode::kInvalidArgument);
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
}

}  // namespace
}  // namespace ald
