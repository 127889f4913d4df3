// CudaPlan's step: enqueue the launches, record bucket events, read the step's results once.
#include "graph/cuda/cuda_plan.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "ops/cuda/class_labels.h"
#include "ops/cuda/cuda_status.h"
#include "ops/cuda/sgd.h"

namespace ald::cuda {
namespace {

absl::Status SharedStateError(const char* what) {
  return absl::FailedPreconditionError(absl::StrCat(
      what, ": an evaluation plan reads its training plan's state; call it on that plan"));
}

}  // namespace

CudaPlan::~CudaPlan() {
  // Nothing may still run on the buffers freed below (cudaFree would wait for the device, but
  // the comm stream may hold work the caller enqueued against our events).
  if (compute_stream_) (void)cudaStreamSynchronize(compute_stream_.get());
  if (comm_stream_) (void)cudaStreamSynchronize(comm_stream_.get());
}

absl::Status CudaPlan::SetBatch(std::span<const float> input, std::span<const int32_t> labels) {
  const int64_t input_count = input_ == kNoValue ? 0 : input_count_;
  const int64_t label_count = labels_ == kNoValue ? 0 : label_count_;
  if (static_cast<int64_t>(input.size()) != input_count ||
      static_cast<int64_t>(labels.size()) != label_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SetBatch: got ", input.size(), " input values and ", labels.size(),
        " labels, the plan takes ", input_count, " and ", label_count));
  }
  cudaStream_t stream = compute_stream();
  if (!input.empty()) {
    RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(this->input(), input.data(), input.size_bytes(),
                                         cudaMemcpyHostToDevice, stream));
  }
  if (!labels.empty()) {
    RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(this->labels(), labels.data(), labels.size_bytes(),
                                         cudaMemcpyHostToDevice, stream));
  }
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream));
  return absl::OkStatus();
}

absl::Status CudaPlan::CopyLogits(std::span<float> out) {
  if (logits_ == kNoValue) return absl::FailedPreconditionError("CopyLogits: the plan has no logits");
  const int64_t count = static_cast<int64_t>(logits_count_);
  if (static_cast<int64_t>(out.size()) != count) {
    return absl::InvalidArgumentError(absl::StrCat("CopyLogits: ", out.size(),
                                                   " floats given, the logits are ", count));
  }
  RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(out.data(), ptr<float>(logits_), out.size_bytes(),
                                       cudaMemcpyDeviceToHost, compute_stream()));
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(compute_stream()));
  return absl::OkStatus();
}

absl::Status CudaPlan::Run(const DropoutKey& key) {
  dropout_key_ = key;
  cudaStream_t stream = compute_stream();
  for (CudaLaunch& launch : launches_) {
    if (bucket_needed_) {
      for (int bucket : launch.buckets_needed) RETURN_IF_ERROR(bucket_needed_(bucket));
    }
    absl::Status status = launch.run(*this);
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat(launch.name, ": ", status.message()));
    }
    for (int bucket : launch.buckets_ready) {
      RETURN_IF_CUDA_ERROR(cudaEventRecord(bucket_events_[bucket].get(), stream));
      if (bucket_ready_) RETURN_IF_ERROR(bucket_ready_(bucket));
    }
  }
  RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(host_results_.get(), device_results_, sizeof(StepResults),
                                       cudaMemcpyDeviceToHost, stream));
  // Also where an asynchronous kernel fault of this step surfaces.
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream));
  // Only on the error path, so the extra copy and wait cost nothing in a good step.
  if (host_results_->loss_bad_row >= 0) {
    return LabelOutOfRange("softmax_cross_entropy forward", host_results_->loss_bad_row,
                           labels(), classes_, stream);
  }
  if (host_results_->accuracy_bad_row >= 0) {
    return LabelOutOfRange("accuracy forward", host_results_->accuracy_bad_row, labels(),
                           classes_, stream);
  }
  return absl::OkStatus();
}

absl::Status CudaPlan::SgdStep(const cpu::SgdConfig& config) {
  if (evaluation()) return SharedStateError("SgdStep");
  return cuda::SgdStep(config, parameters_.size(), parameters_.data(), gradients_.data(),
                       momentum_.data(), compute_stream());
}

absl::Status CudaPlan::SgdStepBucket(const cpu::SgdConfig& config, int bucket,
                                     cudaStream_t stream) {
  if (bucket < 0 || bucket >= num_buckets()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SgdStepBucket: bucket ", bucket, " of ", num_buckets()));
  }
  const Bucket& b = buckets()[bucket];
  return cuda::SgdStep(config, static_cast<int64_t>(b.size), parameters_.data() + b.offset,
                       gradients_.data() + b.offset, momentum_.data() + b.offset, stream);
}

absl::Status CudaPlan::UploadState() {
  if (evaluation()) return SharedStateError("UploadState");
  cudaStream_t stream = compute_stream();
  std::span<const float> host = std::as_const(*store_).parameters();
  if (!host.empty()) {
    RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(parameters_.data(), host.data(), host.size_bytes(),
                                         cudaMemcpyHostToDevice, stream));
    RETURN_IF_CUDA_ERROR(cudaMemsetAsync(gradients_.data(), 0, gradients_.bytes(), stream));
    // The host momentum: zeros after Initialize, the saved one after a resume.
    std::span<const float> momentum = store_->momentum();
    RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(momentum_.data(), momentum.data(), momentum.size_bytes(),
                                         cudaMemcpyHostToDevice, stream));
  }
  for (const auto& [value, offset] : running_layout_) {
    std::span<const float> stat = store_->View(value).values<float>();
    RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(running_.data() + offset, stat.data(), stat.size_bytes(),
                                         cudaMemcpyHostToDevice, stream));
  }
  // The host spans are pageable: wait, so the caller may change them as soon as this returns.
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream));
  return absl::OkStatus();
}

absl::Status CudaPlan::DownloadState() {
  if (evaluation()) return SharedStateError("DownloadState");
  cudaStream_t stream = compute_stream();
  struct Copy {
    std::span<float> host;
    const float* device;
  };
  std::vector<Copy> copies = {{store_->parameters(), parameters_.data()},
                              {store_->gradients(), gradients_.data()},
                              {store_->momentum(), momentum_.data()}};
  for (const auto& [value, offset] : running_layout_) {
    copies.push_back({store_->View(value).values<float>(), running_.data() + offset});
  }
  for (const Copy& copy : copies) {
    if (copy.host.empty()) continue;
    RETURN_IF_CUDA_ERROR(cudaMemcpyAsync(copy.host.data(), copy.device, copy.host.size_bytes(),
                                         cudaMemcpyDeviceToHost, stream));
  }
  RETURN_IF_CUDA_ERROR(cudaStreamSynchronize(stream));
  return absl::OkStatus();
}

}  // namespace ald::cuda
