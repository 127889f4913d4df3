#include "comm/collective_lane.h"

#include <utility>

namespace ald {

PendingCollective PendingCollective::Done(absl::Status status) {
  auto state = std::make_shared<State>();
  state->Finish(std::move(status));
  return PendingCollective(std::move(state));
}

absl::Status PendingCollective::Wait() {
  if (state_ == nullptr) return absl::OkStatus();
  absl::MutexLock lock(&state_->mu);
  state_->mu.Await(absl::Condition(&state_->done));
  return state_->status;
}

bool PendingCollective::done() const {
  if (state_ == nullptr) return true;
  absl::MutexLock lock(&state_->mu);
  return state_->done;
}

CollectiveLane::~CollectiveLane() {
  std::deque<Job> dropped;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  for (Job& job : dropped) {
    job.state->Finish(absl::CancelledError("the collective lane closed before this job ran"));
  }
  if (thread_.joinable()) thread_.join();
}

PendingCollective CollectiveLane::Post(std::function<absl::Status()> job) {
  auto state = std::make_shared<PendingCollective::State>();
  {
    absl::MutexLock lock(&mu_);
    queue_.push_back(Job{std::move(job), state});
  }
  if (!thread_.joinable()) thread_ = std::thread([this] { RunJobs(); });
  return PendingCollective(std::move(state));
}

void CollectiveLane::RunJobs() {
  while (true) {
    Job job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](CollectiveLane* lane) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lane->mu_) {
            return lane->stopping_ || !lane->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // stopping, and nothing left to run
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.state->Finish(job.run());
  }
}

}  // namespace ald
