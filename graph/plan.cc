#include "graph/plan.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status.h"

namespace ald {

absl::Status Plan::Run(const DropoutKey& key) {
  dropout_key_ = key;
  if (loss_grad_ != kNoValue) tensors_[loss_grad_].data<float>()[0] = 1.0f;
  using Clock = std::chrono::steady_clock;
  for (size_t i = 0; i < launches_.size(); ++i) {
    Launch& launch = launches_[i];
    if (bucket_needed_) {
      for (int bucket : launch.buckets_needed) RETURN_IF_ERROR(bucket_needed_(bucket));
    }
    const Clock::time_point start = timing_ ? Clock::now() : Clock::time_point();
    ScopedTraceEvent event(trace_, trace_pid_, trace_tid_, launch.name,
                           launch.backward ? "backward" : "forward", {{"step", key.step}});
    absl::Status status = launch.run(*this);
    event.End();  // the bucket callbacks below are the algorithm's, traced by it
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat(launch.name, ": ", status.message()));
    }
    if (timing_) {
      elapsed_us_[i] += std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    }
    if (loss_ready_ && static_cast<int>(i) == loss_launch_) {
      RETURN_IF_ERROR(loss_ready_(loss()));
    }
    if (bucket_ready_) {
      for (int bucket : launch.buckets_ready) RETURN_IF_ERROR(bucket_ready_(bucket));
    }
  }
  if (timing_) ++runs_timed_;
  return absl::OkStatus();
}

std::string Plan::DescribeMemory() const {
  std::string out = absl::StrCat("arena ", arena_bytes_, " bytes (live peak ", peak_live_bytes_,
                                 ")\n");
  for (const ArenaBuffer& buffer : arena_buffers_) {
    absl::StrAppend(&out, absl::StrFormat("%10d %10d  [%4d, %4d]  %s\n", buffer.offset,
                                          buffer.bytes, buffer.first, buffer.last, buffer.name));
  }
  return out;
}

std::vector<LaunchTiming> Plan::Timings() const {
  std::vector<LaunchTiming> timings;
  for (size_t i = 0; i < launches_.size(); ++i) {
    timings.push_back({launches_[i].name, launches_[i].backward, elapsed_us_[i], runs_timed_});
  }
  return timings;
}

void Plan::ResetTimings() {
  std::fill(elapsed_us_.begin(), elapsed_us_.end(), 0.0);
  runs_timed_ = 0;
}

}  // namespace ald
