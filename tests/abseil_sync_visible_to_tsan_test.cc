// The other half of the ThreadSanitizer canary: abseil's synchronisation must order what it
// orders, as TSan sees it. Debian's abseil is not instrumented, so each primitive we use is
// annotated by //third_party/tsan; a primitive that is not would make TSan report a race that
// cannot happen (as CI once did on collective_lane_test, through a Notification). Each case here
// is such an ordering, built so that its only happens-before edge is the primitive under test:
// under --config=tsan (halt_on_error) a missing annotation fails the test with TSan's report.
// In other configurations the cases still check the values they read.
#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace {

// One hand-over: the notifier writes the payload and notifies, the waiter waits with `wait` and
// reads the payload. With kWaiterLate the waiter sleeps (no synchronisation) until the notifier
// has certainly notified, so its wait takes the fast path: one atomic load inside the library,
// which TSan cannot see. With kWaiterFirst it blocks first and the notifier wakes it.
enum class Arrival { kWaiterLate, kWaiterFirst };
constexpr absl::Duration kLetTheOtherGoFirst = absl::Milliseconds(100);

void HandOver(Arrival arrival, const std::function<bool(const absl::Notification&)>& wait) {
  int payload = 0;
  absl::Notification published;
  std::thread waiter([&] {
    if (arrival == Arrival::kWaiterLate) absl::SleepFor(kLetTheOtherGoFirst);
    ASSERT_TRUE(wait(published));
    EXPECT_EQ(payload, 42);
  });
  if (arrival == Arrival::kWaiterFirst) absl::SleepFor(kLetTheOtherGoFirst);
  payload = 42;
  published.Notify();
  waiter.join();
}

bool WaitForever(const absl::Notification& n) {
  n.WaitForNotification();
  return true;
}
bool WaitWithTimeout(const absl::Notification& n) {
  return n.WaitForNotificationWithTimeout(absl::Seconds(10));
}
bool WaitWithDeadline(const absl::Notification& n) {
  return n.WaitForNotificationWithDeadline(absl::Now() + absl::Seconds(10));
}

TEST(AbseilSyncVisibleToTsanTest, WaitForNotificationAfterNotifyOrdersTheNotifiersWrites) {
  HandOver(Arrival::kWaiterLate, WaitForever);
}

TEST(AbseilSyncVisibleToTsanTest, WaitWithTimeoutAfterNotifyOrdersTheNotifiersWrites) {
  HandOver(Arrival::kWaiterLate, WaitWithTimeout);
}

TEST(AbseilSyncVisibleToTsanTest, WaitWithDeadlineAfterNotifyOrdersTheNotifiersWrites) {
  HandOver(Arrival::kWaiterLate, WaitWithDeadline);
}

TEST(AbseilSyncVisibleToTsanTest, WaitForNotificationBeforeNotifyOrdersTheNotifiersWrites) {
  HandOver(Arrival::kWaiterFirst, WaitForever);
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
