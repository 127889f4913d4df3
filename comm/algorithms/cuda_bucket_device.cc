#include "comm/algorithms/cuda_bucket_device.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "comm/nccl_communicator.h"
#include "core/status.h"
#include "ops/cuda/device_buffer.h"
#include "ops/cuda/kernels.h"
#include "ops/cuda/mixing.h"
#include "ops/cuda/sgd.h"

namespace ald {
namespace {

// A neighbour exchange as NCCL groups on the stream: Post enqueues the sends and receives of
// one message, and whatever is enqueued after it on the stream sees them done, so Wait has
// nothing to do on the host.
class NcclStreamExchange final : public ModelExchange {
 public:
  NcclStreamExchange(Communicator& nccl, cudaStream_t stream, size_t length, CommStats* stats)
      : nccl_(nccl), stream_(stream), length_(length), stats_(stats) {}

  void Begin(std::span<const ActiveNeighbor> neighbors, int64_t /*step*/) override {
    neighbors_.assign(neighbors.begin(), neighbors.end());
  }

  absl::Status Post(int message, BucketSpan span, std::span<const float> mine) override {
    if (neighbors_.empty() || span.size == 0) return absl::OkStatus();
    RETURN_IF_ERROR(Reserve(neighbors_.size()));
    // NCCL's API takes a non-const buffer for sends too; it only reads it.
    float* send = const_cast<float*>(mine.data()) + span.offset;
    std::vector<NcclTransfer> transfers;
    for (size_t k = 0; k < neighbors_.size(); ++k) {
      const int peer = neighbors_[k].rank;
      transfers.push_back({.send = true, .peer = peer, .data = send, .count = span.size});
      transfers.push_back({.send = false,
                           .peer = peer,
                           .data = Slot(k) + span.offset,
                           .count = span.size});
      stats_->bytes_sent += static_cast<int64_t>(span.size * sizeof(float));
      ++stats_->messages_sent;
    }
    absl::Status exchanged = EnqueueExchange(nccl_, transfers, stream_);
    if (!exchanged.ok()) {
      return absl::Status(exchanged.code(),
                          absl::StrCat("message ", message, ": ", exchanged.message()));
    }
    return absl::OkStatus();
  }

  absl::Status Wait(int /*message*/) override { return absl::OkStatus(); }
  absl::Status WaitAll() override { return absl::OkStatus(); }
  int num_neighbors() const override { return static_cast<int>(neighbors_.size()); }
  std::span<const float> received(int index) const override {
    return {received_.data() + static_cast<size_t>(index) * length_, length_};
  }

 private:
  float* Slot(size_t k) { return received_.data() + k * length_; }
  // One full-length slot per neighbour, grown (once, on the device) when a step has more
  // neighbours than any before.
  absl::Status Reserve(size_t neighbors) {
    if (neighbors <= slots_) return absl::OkStatus();
    // Work already enqueued may still read the old slots.
    RETURN_IF_ERROR(cuda::CudaStatus(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"));
    ASSIGN_OR_RETURN(received_, cuda::DeviceBuffer<float>::Create(
                                    static_cast<int64_t>(neighbors * length_)));
    slots_ = neighbors;
    return absl::OkStatus();
  }

  Communicator& nccl_;
  cudaStream_t stream_;
  size_t length_;
  CommStats* stats_;
  std::vector<ActiveNeighbor> neighbors_;
  cuda::DeviceBuffer<float> received_;
  size_t slots_ = 0;
};

class CudaBucketDevice final : public BucketDevice {
 public:
  CudaBucketDevice(Communicator& nccl, cudaStream_t stream) : nccl_(nccl), stream_(stream) {}

  DeviceType memory() const override { return DeviceType::kCuda; }

  absl::Status SgdStep(const cpu::SgdConfig& config, std::span<float> params,
                       std::span<const float> grads, std::span<float> momentum) override {
    return cuda::SgdStep(config, static_cast<int64_t>(params.size()), params.data(),
                         grads.data(), momentum.empty() ? nullptr : momentum.data(), stream_);
  }

  absl::Status AddWeightDecay(float, std::span<const float>, std::span<float>) override {
    return absl::UnimplementedError(
        "adapt-with-combine on the GPU: no weight-decay kernel yet (use --combine=atc)");
  }

  absl::Status WeightedSum(std::span<const float> weights,
                           std::span<const std::span<const float>> inputs,
                           std::span<float> out) override {
    if (static_cast<int>(inputs.size()) > cuda::kernels::kMaxWeightedSumInputs) {
      return absl::InvalidArgumentError(
          absl::StrCat("the GPU combine sums at most ", cuda::kernels::kMaxWeightedSumInputs,
                       " models (the own and ", cuda::kernels::kMaxWeightedSumInputs - 1,
                       " neighbours'), got ", inputs.size()));
    }
    pointers_.clear();
    for (std::span<const float> input : inputs) pointers_.push_back(input.data());
    return cuda::WeightedSum(weights, pointers_, static_cast<int64_t>(out.size()), out.data(),
                             stream_);
  }

  absl::Status AllReduceAverage(std::span<float> data, CommStats& stats, Trace*, int) override {
    RETURN_IF_ERROR(EnqueueAllReduceAverage(nccl_, data.data(), data.size(), stream_));
    // A ring all-reduce sends about twice the data, whatever the number of ranks.
    stats.bytes_sent += static_cast<int64_t>(2 * data.size_bytes());
    ++stats.messages_sent;
    return absl::OkStatus();
  }

  // The stream orders it before the step that reads the average.
  PendingCollective StartAllReduceAverage(std::span<float> data, CommStats& stats, Trace* trace,
                                          int trace_pid) override {
    return PendingCollective::Done(AllReduceAverage(data, stats, trace, trace_pid));
  }

  absl::Status Broadcast(std::span<float> data, int root, CommStats& stats, Trace*,
                         int) override {
    // The plan's streams may still be writing the parameters (an upload).
    RETURN_IF_ERROR(cuda::CudaStatus(cudaDeviceSynchronize(), "cudaDeviceSynchronize"));
    stats.bytes_sent += static_cast<int64_t>(data.size_bytes());
    ++stats.messages_sent;
    return nccl_.Broadcast(data, root);
  }

  // fp32 only: Dpsgd::CheckContext refuses a bf16 wire on the GPU before anything is created.
  std::unique_ptr<ModelExchange> CreateExchange(ExchangeKind /*kind*/, size_t length,
                                                int /*messages*/, CommStats* stats,
                                                WireFormat /*wire*/,
                                                uint64_t /*rounding_seed*/) override {
    return std::make_unique<NcclStreamExchange>(nccl_, stream_, length, stats);
  }

 private:
  Communicator& nccl_;
  cudaStream_t stream_;
  std::vector<const float*> pointers_;
};

}  // namespace

std::unique_ptr<BucketDevice> CreateCudaBucketDevice(Communicator& nccl, cudaStream_t stream) {
  return std::make_unique<CudaBucketDevice>(nccl, stream);
}

}  // namespace ald
