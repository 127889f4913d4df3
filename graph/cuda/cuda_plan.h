// CudaPlan: a training step compiled for one GPU, the CUDA twin of graph/plan.h. Every launch is
// enqueued on one compute stream with buffers bound at compile time (intermediates in one device
// arena, parameters/gradients/momentum in flat device buffers laid out as the ParameterStore's);
// after the launch that finalises a bucket, a per-bucket event is recorded so that the
// communication stream can wait for it without blocking the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cuda_runtime_api.h"
#include "graph/graph.h"
#include "graph/parameter_store.h"
#include "ops/cuda/device_buffer.h"
#include "ops/cuda/handles.h"
#include "ops/dropout.h"
#include "ops/sgd.h"

namespace ald {
template <typename Derived, typename PlanType>
class LoweringBase;
}  // namespace ald

namespace ald::cuda {

class CudaPlan;

struct CudaLaunch {
  std::string name;  // "resnet20/stage1/block1/conv1 backward-weights", as on the CPU
  bool backward = false;
  std::vector<ValueId> reads, writes;  // for liveness and bucket readiness, as Launch
  std::function<absl::Status(CudaPlan&)> run;  // enqueues; never waits for the device
  std::vector<int> buckets_ready;   // see Launch::buckets_ready
  std::vector<int> buckets_needed;  // see Launch::buckets_needed
};

// What the host reads back once per step: one small device block copied in one transfer.
struct StepResults {
  float loss = 0;
  int32_t loss_bad_row = -1;      // first row whose label is outside [0, classes), or -1
  int32_t accuracy_bad_row = -1;  // the same, as seen by the accuracy kernel
  int32_t unused = 0;
  unsigned long long correct = 0;
};

struct StreamDeleter {
  void operator()(cudaStream_t stream) const { (void)cudaStreamDestroy(stream); }
};
struct EventDeleter {
  void operator()(cudaEvent_t event) const { (void)cudaEventDestroy(event); }
};
struct PinnedDeleter {
  void operator()(void* host) const { (void)cudaFreeHost(host); }
};
using OwnedStream = std::unique_ptr<std::remove_pointer_t<cudaStream_t>, StreamDeleter>;
using OwnedEvent = std::unique_ptr<std::remove_pointer_t<cudaEvent_t>, EventDeleter>;

class CudaPlan {
 public:
  ~CudaPlan();
  CudaPlan(const CudaPlan&) = delete;
  CudaPlan& operator=(const CudaPlan&) = delete;

  // The batch, on the device (NCHW floats and int32 labels); SetBatch copies host values in and
  // waits (for tests and benchmarks; a loader would enqueue its own copies on compute_stream()).
  float* input() { return ptr<float>(input_); }
  int32_t* labels() { return ptr<int32_t>(labels_); }
  absl::Status SetBatch(std::span<const float> input, std::span<const int32_t> labels);

  // One step: forward, loss and backward enqueued on compute_stream(), bucket events recorded
  // and callbacks called as their launches are enqueued; then the loss, the correct count and
  // the label checks come back in one copy and the host waits for the stream (the only wait).
  // `key` seeds dropout. Errors name the failing launch.
  absl::Status Run(const DropoutKey& key = {});
  float loss() const { return host_results_->loss; }
  int64_t correct() const { return static_cast<int64_t>(host_results_->correct); }

  // Called on the host right after the event of `bucket` is recorded on the compute stream:
  // work on another stream that needs the bucket waits with
  // cudaStreamWaitEvent(stream, bucket_ready_event(bucket)). An error stops the step.
  void SetBucketReadyCallback(std::function<absl::Status(int bucket)> callback) {
    bucket_ready_ = std::move(callback);
  }
  // Called on the host before the first launch that reads the bucket's parameters is enqueued
  // (a pipelined step makes the compute stream wait for that bucket's combine here).
  void SetBucketNeededCallback(std::function<absl::Status(int bucket)> callback) {
    bucket_needed_ = std::move(callback);
  }
  cudaEvent_t bucket_ready_event(int bucket) const { return bucket_events_.at(bucket).get(); }

  cudaStream_t compute_stream() const { return compute_stream_.get(); }
  cudaStream_t comm_stream() const { return comm_stream_.get(); }
  const CudaHandles& handles() const { return *handles_; }

  // SGD over all parameters on the compute stream (single-GPU training), or over one bucket on
  // `stream` (after waiting for its event, e.g. on comm_stream()).
  absl::Status SgdStep(const cpu::SgdConfig& config);
  absl::Status SgdStepBucket(const cpu::SgdConfig& config, int bucket, cudaStream_t stream);

  // The host ParameterStore gives the layout, names, buckets and initial values: Initialize it,
  // then UploadState copies parameters, momentum (zeros after Initialize) and running
  // statistics to the device and zeroes the gradients. DownloadState copies parameters,
  // gradients, momentum and running statistics back into it. Both wait for the compute stream.
  ParameterStore& host_store() { return shared_ != nullptr ? shared_->host_store() : *store_; }
  absl::Status UploadState();
  absl::Status DownloadState();

  float* parameters() { return parameters_.data(); }
  float* gradients() { return gradients_.data(); }
  float* momentum() { return momentum_.data(); }
  size_t num_parameters() const { return static_cast<size_t>(parameters_.size()); }
  // A training plan's buckets (an evaluation plan has none).
  const std::vector<Bucket>& buckets() const {
    static const std::vector<Bucket> kNone;
    return store_ != nullptr ? store_->buckets() : kNone;
  }
  int num_buckets() const { return store_ != nullptr ? static_cast<int>(store_->buckets().size()) : 0; }

  // An evaluation plan (CompileCudaEval) reads the parameters and running statistics of the
  // training plan it was compiled for, on the device; it has none of its own, no gradients and
  // no buckets. Its Run leaves the logits on the device; CopyLogits brings them to the host.
  bool evaluation() const { return shared_ != nullptr; }
  absl::Status CopyLogits(std::span<float> out);

  size_t arena_bytes() const { return arena_bytes_; }
  size_t peak_live_bytes() const { return peak_live_bytes_; }
  size_t workspace_bytes() const { return workspace_bytes_; }
  // Device allocations (cudaMalloc, cudaMallocHost) made for this plan, all at compile time.
  int device_allocations() const { return device_allocations_; }
  const std::vector<CudaLaunch>& launches() const { return launches_; }

  // Launches read their buffers through this table (by graph value id); null for kNoValue.
  template <typename T>
  T* ptr(ValueId value) const {
    return value == kNoValue ? nullptr : static_cast<T*>(addresses_[value]);
  }
  void* workspace() const { return ptr<void>(workspace_); }
  const DropoutKey& dropout_key() const { return dropout_key_; }
  StepResults* device_results() { return device_results_; }

 private:
  friend class CudaPlanBuilder;
  template <typename Derived, typename PlanType>
  friend class ald::LoweringBase;  // fills launches_ and kernels_
  friend class CudaPlanFactory;
  CudaPlan() = default;

  // Order matters for destruction: kernels use the handles, the handles use the stream.
  OwnedStream compute_stream_, comm_stream_;
  std::unique_ptr<CudaHandles> handles_;
  std::vector<std::shared_ptr<void>> kernels_;
  std::vector<OwnedEvent> bucket_events_;
  std::unique_ptr<ParameterStore> store_;  // null in an evaluation plan
  CudaPlan* shared_ = nullptr;             // an evaluation plan's training plan

  DeviceBuffer<float> parameters_, gradients_, momentum_, running_;
  std::vector<std::pair<ValueId, size_t>> running_layout_;  // running stat, offset in running_
  DeviceBuffer<char> arena_, results_;
  StepResults* device_results_ = nullptr;  // inside results_
  std::unique_ptr<StepResults, PinnedDeleter> host_results_;
  int64_t classes_ = 0;  // for the label error message

  std::vector<CudaLaunch> launches_;
  std::vector<void*> addresses_;  // per value: its device address, or null
  ValueId input_ = kNoValue, labels_ = kNoValue, logits_ = kNoValue, workspace_ = kNoValue;
  int64_t input_count_ = 0, label_count_ = 0, logits_count_ = 0;
  size_t arena_bytes_ = 0, peak_live_bytes_ = 0, workspace_bytes_ = 0;
  int device_allocations_ = 0;
  DropoutKey dropout_key_;
  std::function<absl::Status(int)> bucket_ready_, bucket_needed_;
};

}  // namespace ald::cuda
