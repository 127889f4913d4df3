#include "graph/step_scheduler.h"

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace ald {
namespace {

// Prefixes an algorithm's error with the hook and step it came from.
absl::Status InHook(absl::Status status, const char* hook, int64_t step) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat("step ", step, ", ", hook, ": ", status.message()));
}

}  // namespace

StepScheduler::StepScheduler(StepPlan& plan, Algorithm& algorithm, bool pipelined)
    : plan_(plan),
      algorithm_(algorithm),
      pipelined_(pipelined),
      num_buckets_(plan.num_buckets()),
      deferred_(plan.num_buckets(), false) {
  if (!pipelined_) return;
  StepSignals signals;
  signals.loss_ready = [this](float loss) { return LossReady(loss); };
  signals.bucket_ready = [this](int bucket) { return BucketReady(bucket); };
  signals.bucket_needed = [this](int bucket) { return BucketNeeded(bucket); };
  plan_.SetSignals(std::move(signals));
}

StepScheduler::~StepScheduler() {
  if (pipelined_) plan_.SetSignals({});
}

absl::Status StepScheduler::Step(int64_t step, const LocalStep& local, const DropoutKey& key) {
  step_ = step;
  in_step_ = true;
  loss_shared_ = false;
  ready_.assign(num_buckets_, false);
  num_ready_ = 0;
  RETURN_IF_ERROR(InHook(algorithm_.BeginStep(step, local), "BeginStep", step));
  // Pipelined, the plan calls back into LossReady, BucketNeeded and BucketReady as it runs.
  RETURN_IF_ERROR(plan_.Run(key));
  if (!pipelined_) {
    RETURN_IF_ERROR(LossReady(plan_.loss()));
    // In bucket order: the order the plan finished them is not kept.
    for (int bucket = 0; bucket < num_buckets_; ++bucket) RETURN_IF_ERROR(BucketReady(bucket));
  }
  // The GPU's stand-in: its loss is on the host only now.
  if (!loss_shared_) RETURN_IF_ERROR(LossReady(plan_.loss()));
  return EndStep();
}

absl::Status StepScheduler::LossReady(float loss) {
  if (!in_step_ || loss_shared_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "step ", step_, ": the plan signalled its loss ", in_step_ ? "twice" : "outside a step"));
  }
  loss_shared_ = true;
  return InHook(algorithm_.ShareLoss(loss), "ShareLoss", step_);
}

absl::Status StepScheduler::BucketReady(int bucket) {
  if (!in_step_ || bucket < 0 || bucket >= num_buckets_ || ready_[bucket]) {
    return absl::FailedPreconditionError(absl::StrCat(
        "step ", step_, ": bucket ", bucket, " is ready ",
        !in_step_                                  ? "outside a step"
        : bucket < 0 || bucket >= num_buckets_ ? absl::StrCat("but there are ", num_buckets_)
                                                   : std::string("twice")));
  }
  // The algorithm's exchange of this step reuses what the previous one received.
  if (num_ready_ == 0) RETURN_IF_ERROR(CombineDeferred());
  ready_[bucket] = true;
  ++num_ready_;
  RETURN_IF_ERROR(plan_.BucketWorkBegins(bucket));
  return InHook(algorithm_.UpdateAndPost(bucket), "UpdateAndPost", step_);
}

absl::Status StepScheduler::BucketNeeded(int bucket) {
  if (bucket < 0 || bucket >= num_buckets_ || !deferred_[bucket]) return absl::OkStatus();
  return CombineBucket(bucket);
}

absl::Status StepScheduler::EndStep() {
  if (num_ready_ != num_buckets_) {
    return absl::FailedPreconditionError(absl::StrCat("step ", step_, " ended with ",
                                                      num_ready_, " of ", num_buckets_,
                                                      " buckets ready"));
  }
  in_step_ = false;
  RETURN_IF_ERROR(InHook(algorithm_.EndStep(), "EndStep", step_));
  deferred_.assign(num_buckets_, true);
  num_deferred_ = num_buckets_;
  // Pipelined, a combine that may wait is left to the next forward's first read of its bucket.
  if (pipelined_ && algorithm_.CombinesMayWaitForTheForward()) return absl::OkStatus();
  for (int bucket = 0; bucket < num_buckets_; ++bucket) RETURN_IF_ERROR(CombineBucket(bucket));
  return absl::OkStatus();
}

absl::Status StepScheduler::CombineBucket(int bucket) {
  deferred_[bucket] = false;
  --num_deferred_;
  RETURN_IF_ERROR(InHook(algorithm_.Combine(bucket), "Combine", step_));
  return plan_.BucketWorkEnds(bucket);
}

absl::Status StepScheduler::CombineDeferred() {
  for (int bucket = 0; bucket < num_buckets_ && num_deferred_ > 0; ++bucket) {
    if (deferred_[bucket]) RETURN_IF_ERROR(CombineBucket(bucket));
  }
  return absl::OkStatus();
}

absl::Status StepScheduler::Flush() {
  RETURN_IF_ERROR(CombineDeferred());
  return plan_.Synchronize();
}

}  // namespace ald
