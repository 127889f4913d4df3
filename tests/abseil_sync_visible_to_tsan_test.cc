// The other half of the ThreadSanitizer canary: abseil's synchronisation must order what it
// orders, as TSan sees it. Debian's abseil is not instrumented, so each primitive we use is
// annotated by //third_party/tsan; a primitive that is not would make TSan report a race that
// cannot happen (as CI once did on collective_lane_test, through a Notification). Each case here
// is such an ordering, built so that its only happens-before edge is the primitive under test:
// under --config=tsan (halt_on_error) a missing annotation fails the test with TSan's report.
// In other configurations the cases still check the values they read.
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace {

// The waiter sleeps (no synchronisation) until the notifier has certainly notified, so its wait
// takes the fast path: one atomic load inside the library, which TSan cannot see.
constexpr absl::Duration kLetTheNotifierGoFirst = absl::Milliseconds(100);

TEST(AbseilSyncVisibleToTsanTest, WaitForNotificationAfterNotifyOrdersTheNotifiersWrites) {
  int payload = 0;
  absl::Notification published;
  std::thread waiter([&] {
    absl::SleepFor(kLetTheNotifierGoFirst);
    published.WaitForNotification();
    EXPECT_EQ(payload, 42);
  });
  payload = 42;
  published.Notify();
  waiter.join();
}

TEST(AbseilSyncVisibleToTsanTest, WaitWithTimeoutAfterNotifyOrdersTheNotifiersWrites) {
  int payload = 0;
  absl::Notification published;
  std::thread waiter([&] {
    absl::SleepFor(kLetTheNotifierGoFirst);
    ASSERT_TRUE(published.WaitForNotificationWithTimeout(absl::Seconds(10)));
    EXPECT_EQ(payload, 42);
  });
  payload = 42;
  published.Notify();
  waiter.join();
}

TEST(AbseilSyncVisibleToTsanTest, WaitWithDeadlineAfterNotifyOrdersTheNotifiersWrites) {
  int payload = 0;
  absl::Notification published;
  std::thread waiter([&] {
    absl::SleepFor(kLetTheNotifierGoFirst);
    ASSERT_TRUE(published.WaitForNotificationWithDeadline(absl::Now() + absl::Seconds(10)));
    EXPECT_EQ(payload, 42);
  });
  payload = 42;
  published.Notify();
  waiter.join();
}

// The slow path: the waiter blocks first and the notifier wakes it.
TEST(AbseilSyncVisibleToTsanTest, WaitForNotificationBeforeNotifyOrdersTheNotifiersWrites) {
  int payload = 0;
  absl::Notification published;
  std::thread waiter([&] {
    published.WaitForNotification();
    EXPECT_EQ(payload, 42);
  });
  absl::SleepFor(kLetTheNotifierGoFirst);
  payload = 42;
  published.Notify();
  waiter.join();
}

// A value handed over under a Mutex, with the reader polling until it sees it.
TEST(AbseilSyncVisibleToTsanTest, MutexOrdersAHandOver) {
  absl::Mutex mu;
  bool ready = false;
  int payload = 0;
  std::thread reader([&] {
    mu.LockWhen(absl::Condition(&ready));
    EXPECT_EQ(payload, 42);
    mu.Unlock();
  });
  payload = 42;  // before the lock: published by the unlock below
  {
    absl::MutexLock lock(&mu);
    ready = true;
  }
  reader.join();
}

}  // namespace
