#include "comm/collective_lane.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace ald {
namespace {

// Post returns before its job runs: the job waits for something the poster does only after
// Post returned, which would time out if Post ran the job itself.
TEST(CollectiveLaneTest, PostReturnsBeforeTheJobRuns) {
  CollectiveLane lane;
  absl::Notification posted;
  std::thread::id ran_on;
  PendingCollective pending = lane.Post([&] {
    ran_on = std::this_thread::get_id();
    if (!posted.WaitForNotificationWithTimeout(absl::Seconds(10))) {
      return absl::DeadlineExceededError("Post ran the job before it returned");
    }
    return absl::OkStatus();
  });
  EXPECT_FALSE(pending.done());
  posted.Notify();
  EXPECT_TRUE(pending.Wait().ok());
  EXPECT_TRUE(pending.done());
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(CollectiveLaneTest, JobsRunOneAtATimeInPostingOrderAndKeepTheirStatus) {
  CollectiveLane lane;
  std::vector<int> order;  // only the lane's thread writes it; read after every Wait
  std::vector<PendingCollective> pending;
  for (int job = 0; job < 20; ++job) {
    pending.push_back(lane.Post([&order, job] {
      order.push_back(job);
      return job % 3 == 0 ? absl::AbortedError(absl::StrCat("job ", job)) : absl::OkStatus();
    }));
  }
  for (int job = 19; job >= 0; --job) {  // waiting out of order changes nothing
    const absl::Status status = pending[job].Wait();
    EXPECT_EQ(status.ok(), job % 3 != 0) << "job " << job << ": " << status;
    if (!status.ok()) {
      EXPECT_EQ(status.message(), absl::StrCat("job ", job));
    }
  }
  std::vector<int> expected(20);
  for (int job = 0; job < 20; ++job) expected[job] = job;
  EXPECT_EQ(order, expected);
}

// The first job holds the lane until the second is cancelled, which only closing the lane does.
// The lane closes only once the first job has started: closed earlier, it would cancel both.
TEST(CollectiveLaneTest, ClosingFinishesTheRunningJobAndCancelsTheQueuedOnes) {
  absl::Notification both_posted, first_started;
  bool first_finished = false, second_ran = false;
  PendingCollective first, second;
  {
    CollectiveLane lane;
    first = lane.Post([&] {
      both_posted.WaitForNotification();
      first_started.Notify();
      const absl::Time deadline = absl::Now() + absl::Seconds(10);
      while (!second.done()) {
        if (absl::Now() > deadline) return absl::DeadlineExceededError("never cancelled");
        absl::SleepFor(absl::Milliseconds(1));
      }
      first_finished = true;
      return absl::OkStatus();
    });
    second = lane.Post([&] {
      second_ran = true;
      return absl::OkStatus();
    });
    both_posted.Notify();
    first_started.WaitForNotification();
  }  // the lane closes while the first job runs
  EXPECT_TRUE(first.Wait().ok()) << first.Wait();
  EXPECT_TRUE(first_finished);
  EXPECT_EQ(second.Wait().code(), absl::StatusCode::kCancelled);
  EXPECT_FALSE(second_ran);
}

TEST(CollectiveLaneTest, NothingPostedAndDoneHandlesDoNotBlock) {
  PendingCollective nothing;
  EXPECT_TRUE(nothing.done());
  EXPECT_TRUE(nothing.Wait().ok());
  PendingCollective failed = PendingCollective::Done(absl::InternalError("at once"));
  EXPECT_TRUE(failed.done());
  EXPECT_EQ(failed.Wait().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace ald
