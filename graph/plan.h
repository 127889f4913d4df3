// A compiled Plan: an ordered list of kernel launches with their buffers bound (intermediates
// as offsets in one arena, parameters and their gradients in the ParameterStore), run step
// after step without allocating or building primitives. After the launch that finalises a
// bucket's gradients it signals "bucket ready", the hook the pipelined scheduler hangs
// communication on, and before the first launch that reads a bucket, "bucket needed".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/tensor.h"
#include "core/trace.h"
#include "graph/graph.h"
#include "ops/dropout.h"

namespace ald {

class Plan;

struct Launch {
  std::string name;  // "resnet20/stage1/block1/conv1 backward-weights"
  bool backward = false;
  std::vector<ValueId> reads, writes;
  std::function<absl::Status(Plan&)> run;
  // Buckets no later launch touches: gradients final, parameters no longer read (so an
  // algorithm may update them in place while backward goes on).
  std::vector<int> buckets_ready;
  // Buckets whose parameters no earlier launch reads: before this launch runs, a pipelined
  // step finishes their combine (the next forward waits only for the buckets it reaches).
  std::vector<int> buckets_needed;
};

struct LaunchTiming {
  std::string name;
  bool backward = false;
  double total_us = 0;
  int64_t calls = 0;
};

class Plan {
 public:
  // The batch goes here before Run (the data loader writes into these views: no copy).
  Tensor& input() { return tensors_[input_]; }
  Tensor& labels() { return tensors_[labels_]; }

  // One step: forward, loss, and in a training plan the backward, leaving the parameter
  // gradients in the store. `key` seeds dropout. Errors name the failing launch.
  absl::Status Run(const DropoutKey& key = {});
  float loss() const { return tensors_[loss_].data<float>()[0]; }
  int64_t correct() const { return tensors_[correct_].data<int32_t>()[0]; }
  const Tensor& logits() const { return tensors_[logits_]; }

  bool training() const { return training_; }
  size_t arena_bytes() const { return arena_bytes_; }
  size_t peak_live_bytes() const { return peak_live_bytes_; }
  int num_buckets() const { return num_buckets_; }
  const std::vector<Launch>& launches() const { return launches_; }
  // One line per arena buffer: offset, bytes, lifetime (launch indices) and name.
  std::string DescribeMemory() const;

  // Called after the launch that finalises a bucket's gradients; an error stops the step.
  void SetBucketReadyCallback(std::function<absl::Status(int bucket)> callback) {
    bucket_ready_ = std::move(callback);
  }
  // Called before the first launch that reads a bucket's parameters; an error stops the step.
  void SetBucketNeededCallback(std::function<absl::Status(int bucket)> callback) {
    bucket_needed_ = std::move(callback);
  }
  // Called as soon as the forward pass has the loss (before the backward starts), so a small
  // message can go out early (AL-DSGD shares losses with its neighbours).
  void SetLossReadyCallback(std::function<absl::Status(float loss)> callback) {
    loss_ready_ = std::move(callback);
  }
  // Per-launch wall time, accumulated over Runs while enabled (off by default: no clock reads).
  void EnableTiming(bool enabled) { timing_ = enabled; }
  std::vector<LaunchTiming> Timings() const;
  void ResetTimings();
  // Records every launch of Run into `trace` (not owned; null stops) as worker `pid`, thread
  // `tid`: named after the launch, category "forward"/"backward", args {"step"}.
  void SetTrace(Trace* trace, int pid, int tid) {
    trace_ = trace;
    trace_pid_ = pid;
    trace_tid_ = tid;
  }

  // Kernels and launches read their buffers through this table (by graph value id).
  Tensor& tensor(ValueId value) { return tensors_[value]; }
  const DropoutKey& dropout_key() const { return dropout_key_; }

 private:
  friend class PlanBuilder;
  template <typename Derived, typename PlanType>
  friend class LoweringBase;  // fills launches_ and kernels_
  Plan() = default;

  bool training_ = false;
  std::vector<Launch> launches_;
  std::vector<Tensor> tensors_;
  std::vector<std::shared_ptr<void>> kernels_;  // owned here, used by the launches
  Tensor arena_;
  size_t arena_bytes_ = 0, peak_live_bytes_ = 0;
  struct ArenaBuffer {
    std::string name;
    size_t offset, bytes;
    int first, last;
  };
  std::vector<ArenaBuffer> arena_buffers_;
  int num_buckets_ = 0;
  ValueId input_ = kNoValue, labels_ = kNoValue, loss_ = kNoValue, correct_ = kNoValue,
          logits_ = kNoValue, loss_grad_ = kNoValue;
  DropoutKey dropout_key_;
  std::function<absl::Status(int)> bucket_ready_;
  std::function<absl::Status(int)> bucket_needed_;
  std::function<absl::Status(float)> loss_ready_;
  int loss_launch_ = -1;  // index of the launch that writes the loss
  bool timing_ = false;
  std::vector<double> elapsed_us_;
  int64_t runs_timed_ = 0;
  Trace* trace_ = nullptr;
  int trace_pid_ = 0, trace_tid_ = 0;
};

}  // namespace ald
