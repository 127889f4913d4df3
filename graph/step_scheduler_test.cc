#include "graph/step_scheduler.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

using Log = std::vector<std::string>;

// Records every hook the scheduler calls.
class RecordingAlgorithm final : public Algorithm {
 public:
  RecordingAlgorithm(Log& log, bool combines_may_wait) : log_(log), may_wait_(combines_may_wait) {}
  const char* name() const override { return "recording"; }
  absl::Status Start() override { return absl::OkStatus(); }
  absl::Status BeginStep(int64_t step, const LocalStep&) override {
    log_.push_back(absl::StrCat("begin", step));
    return absl::OkStatus();
  }
  absl::Status ShareLoss(float loss) override {
    log_.push_back(absl::StrCat("loss", loss));
    return absl::OkStatus();
  }
  absl::Status UpdateAndPost(int bucket) override {
    log_.push_back(absl::StrCat("update", bucket));
    return absl::OkStatus();
  }
  absl::Status EndStep() override {
    log_.push_back("end");
    return absl::OkStatus();
  }
  absl::Status Combine(int bucket) override {
    log_.push_back(absl::StrCat("combine", bucket));
    return absl::OkStatus();
  }
  bool CombinesMayWaitForTheForward() const override { return may_wait_; }

 private:
  Log& log_;
  bool may_wait_;
};

// A plan of `buckets` buckets that signals as a compiled one does (the forward needs the last
// bucket first; the backward readies bucket 0 first), or only what `ready` lists, in that order.
class ScriptedPlan final : public StepPlan {
 public:
  ScriptedPlan(Log& log, int buckets, bool signals_loss = true)
      : log_(log), buckets_(buckets), signals_loss_(signals_loss) {
    for (int b = 0; b < buckets; ++b) ready.push_back(b);
  }
  absl::Status Run(const DropoutKey&) override {
    log_.push_back("run");
    for (int b = buckets_ - 1; b >= 0; --b) {
      if (signals_.bucket_needed) RETURN_IF_ERROR(signals_.bucket_needed(b));
    }
    if (signals_loss_ && signals_.loss_ready) RETURN_IF_ERROR(signals_.loss_ready(0.5f));
    for (int b : ready) {
      if (signals_.bucket_ready) RETURN_IF_ERROR(signals_.bucket_ready(b));
    }
    return absl::OkStatus();
  }
  float loss() const override { return 0.5f; }
  int num_buckets() const override { return buckets_; }
  void SetSignals(StepSignals signals) override { signals_ = std::move(signals); }
  absl::Status Synchronize() override {
    log_.push_back("sync");
    return absl::OkStatus();
  }

  std::vector<int> ready;

 private:
  Log& log_;
  int buckets_;
  bool signals_loss_;
  StepSignals signals_;
};

std::string Joined(const Log& log) { return absl::StrJoin(log, " "); }

TEST(StepSchedulerTest, SequentialRunsTheRuleAfterTheBackward) {
  Log log;
  ScriptedPlan plan(log, 2);
  RecordingAlgorithm algorithm(log, /*combines_may_wait=*/true);
  StepScheduler scheduler(plan, algorithm, /*pipelined=*/false);
  ASSERT_TRUE(scheduler.Step(0, {}, {}).ok());
  EXPECT_EQ(Joined(log), "begin0 run loss0.5 update0 update1 end combine0 combine1");
}

TEST(StepSchedulerTest, PipelinedDefersCombinesToTheBucketsFirstRead) {
  Log log;
  ScriptedPlan plan(log, 2);
  RecordingAlgorithm algorithm(log, /*combines_may_wait=*/true);
  StepScheduler scheduler(plan, algorithm, /*pipelined=*/true);
  ASSERT_TRUE(scheduler.Step(0, {}, {}).ok());
  EXPECT_EQ(Joined(log), "begin0 run loss0.5 update0 update1 end");
  log.clear();
  // The next forward reads bucket 1 (the first layers) first: its combine comes first.
  ASSERT_TRUE(scheduler.Step(1, {}, {}).ok());
  EXPECT_EQ(Joined(log), "begin1 run combine1 combine0 loss0.5 update0 update1 end");
  log.clear();
  ASSERT_TRUE(scheduler.Flush().ok());
  EXPECT_EQ(Joined(log), "combine0 combine1 sync");
  log.clear();
  ASSERT_TRUE(scheduler.Flush().ok());
  EXPECT_EQ(Joined(log), "sync");
}

TEST(StepSchedulerTest, CombinesThatMayNotWaitFollowEndStep) {
  Log log;
  ScriptedPlan plan(log, 2);
  RecordingAlgorithm algorithm(log, /*combines_may_wait=*/false);
  StepScheduler scheduler(plan, algorithm, /*pipelined=*/true);
  ASSERT_TRUE(scheduler.Step(0, {}, {}).ok());
  EXPECT_EQ(Joined(log), "begin0 run loss0.5 update0 update1 end combine0 combine1");
}

TEST(StepSchedulerTest, AGpuPlansLossIsSharedAfterRun) {
  Log log;
  ScriptedPlan plan(log, 1, /*signals_loss=*/false);
  RecordingAlgorithm algorithm(log, /*combines_may_wait=*/true);
  StepScheduler scheduler(plan, algorithm, /*pipelined=*/true);
  ASSERT_TRUE(scheduler.Step(0, {}, {}).ok());
  EXPECT_EQ(Joined(log), "begin0 run update0 loss0.5 end");
}

TEST(StepSchedulerTest, ABucketThatIsNeverReadyIsAnError) {
  Log log;
  ScriptedPlan plan(log, 2);
  plan.ready = {0};
  RecordingAlgorithm algorithm(log, /*combines_may_wait=*/true);
  StepScheduler scheduler(plan, algorithm, /*pipelined=*/true);
  const absl::Status status = scheduler.Step(3, {}, {});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("step 3 ended with 1 of 2 buckets ready"), std::string::npos)
      << status;
  EXPECT_EQ(Joined(log), "begin3 run loss0.5 update0");
}

TEST(StepSchedulerTest, BucketsAreUpdatedInTheOrderThePlanFinishesThem) {
  Log log;
  ScriptedPlan plan(log, 3);
  plan.ready = {0, 2, 1};
  RecordingAlgorithm algorithm(log, /*combines_may_wait=*/true);
  StepScheduler scheduler(plan, algorithm, /*pipelined=*/true);
  ASSERT_TRUE(scheduler.Step(0, {}, {}).ok());
  EXPECT_EQ(Joined(log), "begin0 run loss0.5 update0 update2 update1 end");
  log.clear();
  // The previous step's combines all finish before the step's first update.
  plan.ready = {2, 0, 1};
  ASSERT_TRUE(scheduler.Step(1, {}, {}).ok());
  EXPECT_EQ(Joined(log),
            "begin1 run combine2 combine1 combine0 loss0.5 update2 update0 update1 end");
}

TEST(StepSchedulerTest, ABucketReadyTwiceOrUnknownIsAnError) {
  for (const auto& [ready, expected] :
       {std::pair<std::vector<int>, std::string>{{0, 0, 1}, "bucket 0 is ready twice"},
        {{0, 5}, "bucket 5 is ready but there are 2"}}) {
    Log log;
    ScriptedPlan plan(log, 2);
    plan.ready = ready;
    RecordingAlgorithm algorithm(log, /*combines_may_wait=*/true);
    StepScheduler scheduler(plan, algorithm, /*pipelined=*/true);
    const absl::Status status = scheduler.Step(0, {}, {});
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    EXPECT_NE(status.message().find(expected), std::string::npos) << status;
  }
}

TEST(StepSchedulerTest, AnAlgorithmErrorNamesTheHookAndStep) {
  class FailingAlgorithm final : public Algorithm {
   public:
    const char* name() const override { return "failing"; }
    absl::Status Start() override { return absl::OkStatus(); }
    absl::Status BeginStep(int64_t, const LocalStep&) override { return absl::OkStatus(); }
    absl::Status UpdateAndPost(int) override { return absl::UnavailableError("peer 2 is gone"); }
    absl::Status EndStep() override { return absl::OkStatus(); }
  } algorithm;
  Log log;
  ScriptedPlan plan(log, 1);
  StepScheduler scheduler(plan, algorithm, /*pipelined=*/true);
  const absl::Status status = scheduler.Step(7, {}, {});
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "step 7, UpdateAndPost: peer 2 is gone");
}

}  // namespace
}  // namespace ald
