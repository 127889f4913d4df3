// ThreadSanitizer and Debian's abseil: the library is not instrumented, so TSan cannot see its
// locks (absl::Mutex takes and releases them with atomics inside the library), and every access
// guarded by one would be reported as a race. abseil's own TSan annotations are compiled in only
// when abseil itself is built with -fsanitize=thread.
//
// This file, linked only under --config=tsan, defines the lock operations of absl::Mutex and
// absl::CondVar (and absl::Status's reference drop, the other synchronisation we share through
// abseil) in the binary. Dynamic linking binds every call (ours, and the library's own
// exported calls) to these definitions first; each tells TSan what the lock does
// (<sanitizer/tsan_interface.h>, the interface TSan's own pthread interceptors use) and calls
// the library's real function, found with dlsym(RTLD_NEXT). A wait (Await, CondVar::Wait)
// releases the lock and takes it again before it returns, and is annotated so.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace {

#define ALD_STRINGIFY2(x) #x
#define ALD_STRINGIFY(x) ALD_STRINGIFY2(x)

enum class Member { kPlain, kConst };

// The mangled name of absl::<inline namespace>::`rest`, e.g. "5Mutex4LockEv"; a const member
// function's name starts "_ZNK".
std::string Mangled(const char* rest, Member member) {
  const std::string inline_namespace = ALD_STRINGIFY(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  return std::string(member == Member::kConst ? "_ZNK" : "_ZN") + "4absl" +
         std::to_string(inline_namespace.size()) + inline_namespace + rest;
}

template <typename Function>
Function Real(const char* rest, Member member = Member::kPlain) {
  const std::string name = Mangled(rest, member);
  void* found = dlsym(RTLD_NEXT, name.c_str());
  if (found == nullptr) {
    std::fprintf(stderr, "absl_sync_annotations: %s not found in abseil\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<Function>(found);
}

using MutexCall = void (*)(absl::Mutex*);
using MutexTry = bool (*)(absl::Mutex*);
using MutexCondition = void (*)(absl::Mutex*, const absl::Condition&);
using MutexConditionTimeout = bool (*)(absl::Mutex*, const absl::Condition&, absl::Duration);
using MutexConditionDeadline = bool (*)(absl::Mutex*, const absl::Condition&, absl::Time);
using CondVarWait = void (*)(absl::CondVar*, absl::Mutex*);
using CondVarTimeout = bool (*)(absl::CondVar*, absl::Mutex*, absl::Duration);
using CondVarDeadline = bool (*)(absl::CondVar*, absl::Mutex*, absl::Time);

constexpr unsigned kRead = __tsan_mutex_read_lock;

// The library's functions call each other (AwaitWithTimeout calls AwaitWithDeadline, through
// the same bindings): only the outermost call of a thread is annotated.
thread_local int nesting = 0;
class Outermost {
 public:
  Outermost() : outermost_(nesting++ == 0) {}
  ~Outermost() { --nesting; }
  explicit operator bool() const { return outermost_; }

 private:
  const bool outermost_;
};

// Runs a blocking operation that takes the lock (in mode `flags`) and returns holding it.
template <typename Call>
auto Locking(void* mu, unsigned flags, Call call) {
  Outermost outer;
  if (outer) __tsan_mutex_pre_lock(mu, flags);
  auto result = call();
  if (outer) __tsan_mutex_post_lock(mu, flags, 0);
  return result;
}

// Runs an operation that releases the lock (in mode `flags`).
template <typename Call>
void Unlocking(void* mu, unsigned flags, Call call) {
  Outermost outer;
  if (outer) __tsan_mutex_pre_unlock(mu, flags);
  call();
  if (outer) __tsan_mutex_post_unlock(mu, flags);
}

// A try-lock in mode `flags`; whether it took the lock.
template <typename Call>
bool Trying(void* mu, unsigned flags, Call call) {
  Outermost outer;
  if (outer) __tsan_mutex_pre_lock(mu, flags | __tsan_mutex_try_lock);
  const bool locked = call();
  if (outer) {
    __tsan_mutex_post_lock(
        mu, flags | __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  }
  return locked;
}

// Runs a wait that releases the held lock and takes it again before it returns. TSan ignores
// the thread's accesses between a pre- and a post-annotation, as inside its own lock
// interceptors: the wait evaluates the caller's Condition (a read of guarded state) at moments
// it cannot see as locked.
template <typename Call>
auto Waiting(void* mu, Call call) {
  Outermost outer;
  if (outer) __tsan_mutex_pre_unlock(mu, 0);
  auto result = call();
  if (outer) {
    __tsan_mutex_post_unlock(mu, 0);
    __tsan_mutex_pre_lock(mu, 0);
    __tsan_mutex_post_lock(mu, 0, 0);
  }
  return result;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

Mutex::~Mutex() {
  static auto real = Real<MutexCall>("5MutexD2Ev");
  __tsan_mutex_destroy(this, 0);
  real(this);
}

void Mutex::Lock() {
  static auto real = Real<MutexCall>("5Mutex4LockEv");
  Locking(this, 0, [&] { return (real(this), 0); });
}

void Mutex::Unlock() {
  static auto real = Real<MutexCall>("5Mutex6UnlockEv");
  Unlocking(this, 0, [&] { real(this); });
}

bool Mutex::TryLock() {
  static auto real = Real<MutexTry>("5Mutex7TryLockEv");
  return Trying(this, 0, [&] { return real(this); });
}

void Mutex::ReaderLock() {
  static auto real = Real<MutexCall>("5Mutex10ReaderLockEv");
  Locking(this, kRead, [&] { return (real(this), 0); });
}

void Mutex::ReaderUnlock() {
  static auto real = Real<MutexCall>("5Mutex12ReaderUnlockEv");
  Unlocking(this, kRead, [&] { real(this); });
}

bool Mutex::ReaderTryLock() {
  static auto real = Real<MutexTry>("5Mutex13ReaderTryLockEv");
  return Trying(this, kRead, [&] { return real(this); });
}

void Mutex::LockWhen(const Condition& cond) {
  static auto real = Real<MutexCondition>("5Mutex8LockWhenERKNS0_9ConditionE");
  Locking(this, 0, [&] { return (real(this, cond), 0); });
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static auto real = Real<MutexConditionTimeout>(
      "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Locking(this, 0, [&] { return real(this, cond, timeout); });
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static auto real = Real<MutexConditionDeadline>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Locking(this, 0, [&] { return real(this, cond, deadline); });
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static auto real = Real<MutexCondition>("5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  Locking(this, kRead, [&] { return (real(this, cond), 0); });
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static auto real = Real<MutexConditionTimeout>(
      "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Locking(this, kRead, [&] { return real(this, cond, timeout); });
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  static auto real = Real<MutexConditionDeadline>(
      "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Locking(this, kRead, [&] { return real(this, cond, deadline); });
}

void Mutex::Await(const Condition& cond) {
  static auto real = Real<MutexCondition>("5Mutex5AwaitERKNS0_9ConditionE");
  Waiting(this, [&] { return (real(this, cond), 0); });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static auto real = Real<MutexConditionTimeout>(
      "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Waiting(this, [&] { return real(this, cond, timeout); });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static auto real = Real<MutexConditionDeadline>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Waiting(this, [&] { return real(this, cond, deadline); });
}

void CondVar::Wait(Mutex* mu) {
  static auto real = Real<CondVarWait>("7CondVar4WaitEPNS0_5MutexE");
  Waiting(mu, [&] { return (real(this, mu), 0); });
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static auto real =
      Real<CondVarTimeout>("7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  return Waiting(mu, [&] { return real(this, mu, timeout); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static auto real =
      Real<CondVarDeadline>("7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return Waiting(mu, [&] { return real(this, mu, deadline); });
}

// absl::Notification: a wait that finds the notification already given returns after one atomic
// load inside the library, with no lock taken, so the lock annotations above never see that
// edge. Notify publishes its thread's writes on the notification; each wait that returns
// notified acquires them. (HasBeenNotified is inline in the header and cannot be bound here; we
// do not use it.)
void Notification::Notify() {
  static auto real = Real<void (*)(Notification*)>("12Notification6NotifyEv");
  __tsan_release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  static auto real = Real<void (*)(const Notification*)>("12Notification19WaitForNotificationEv",
                                                          Member::kConst);
  real(this);
  __tsan_acquire(const_cast<Notification*>(this));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  static auto real = Real<bool (*)(const Notification*, Duration)>(
      "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE", Member::kConst);
  const bool notified = real(this, timeout);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  static auto real = Real<bool (*)(const Notification*, Time)>(
      "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE", Member::kConst);
  const bool notified = real(this, deadline);
  if (notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

// absl::Status shares a heap representation between copies and frees it when an atomic
// reference count, decremented inside the library, reaches zero. Each release publishes what its
// thread did with the status; the last one, which frees it, acquires them all.
void Status::UnrefNonInlined(uintptr_t rep) {
  static auto real = Real<void (*)(uintptr_t)>("6Status15UnrefNonInlinedEm");
  void* shared = reinterpret_cast<void*>(rep);
  __tsan_release(shared);
  __tsan_acquire(shared);
  real(rep);
}

ABSL_NAMESPACE_END
}  // namespace absl
