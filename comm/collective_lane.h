// A lane for collectives that run behind the caller's back: all-reduce SGD posts each bucket's
// all-reduce as its gradients become final and waits for it only after the backward, as
// PyTorch DDP does. The host's collectives block, so the lane gives them a thread of their own.
// Jobs run one at a time in posting order, which keeps every rank's collectives in the same
// order (the communicators match collectives by order, not by name).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace ald {

// The outcome of a job posted to a CollectiveLane.
class PendingCollective {
 public:
  PendingCollective() = default;  // nothing posted: done, OK
  // A job that already ran (a device that runs it at once, or an argument error).
  static PendingCollective Done(absl::Status status);

  // Blocks until the job has run and returns its status. The job's own deadlines bound the
  // wait (a communicator's collectives time out), so it cannot hang on a dead peer.
  absl::Status Wait();
  // True once the job has run (Wait would not block).
  bool done() const;

 private:
  friend class CollectiveLane;
  struct State {
    mutable absl::Mutex mu;
    bool done ABSL_GUARDED_BY(mu) = false;
    absl::Status status ABSL_GUARDED_BY(mu);
    void Finish(absl::Status outcome) {
      absl::MutexLock lock(&mu);
      done = true;
      status = std::move(outcome);
    }
  };
  explicit PendingCollective(std::shared_ptr<State> state) : state_(std::move(state)) {}

  std::shared_ptr<State> state_;  // null: done, OK
};

class CollectiveLane {
 public:
  CollectiveLane() = default;
  // Jobs not started yet are dropped (their Wait says Cancelled); a running one finishes first.
  ~CollectiveLane();
  CollectiveLane(const CollectiveLane&) = delete;
  CollectiveLane& operator=(const CollectiveLane&) = delete;

  // Runs `job` on the lane's thread (started on first use) after every job posted before it.
  // What the job touches must stay valid until its Wait returns.
  PendingCollective Post(std::function<absl::Status()> job);

 private:
  struct Job {
    std::function<absl::Status()> run;
    std::shared_ptr<PendingCollective::State> state;
  };
  void RunJobs();

  absl::Mutex mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // started by the first Post; only the posting thread touches it
};

}  // namespace ald
