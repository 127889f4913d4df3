#include <map>
#include <utility>

#include "comm/algorithms/bucket_device.h"
#include "comm/algorithms/counted_collectives.h"
#include "core/status.h"
#include "ops/mixing.h"

namespace ald {
namespace {

class HostBucketDevice final : public BucketDevice {
 public:
  explicit HostBucketDevice(Communicator& comm) : comm_(comm) {}

  DeviceType memory() const override { return DeviceType::kCpu; }

  absl::Status SgdStep(const cpu::SgdConfig& config, std::span<float> params,
                       std::span<const float> grads, std::span<float> momentum) override {
    return cpu::SgdStep(config, params, grads, momentum);
  }

  absl::Status AddWeightDecay(float weight_decay, std::span<const float> params,
                              std::span<float> grads) override {
    return cpu::AddWeightDecay(weight_decay, params, grads);
  }

  absl::Status WeightedSum(std::span<const float> weights,
                           std::span<const std::span<const float>> inputs,
                           std::span<float> out) override {
    const auto key =
        std::make_pair(static_cast<int>(inputs.size()), static_cast<int64_t>(out.size()));
    auto found = kernels_.find(key);
    if (found == kernels_.end()) {
      ASSIGN_OR_RETURN(std::unique_ptr<cpu::WeightedSumCpu> kernel,
                       cpu::WeightedSumCpu::Create(key.first, key.second));
      found = kernels_.emplace(key, std::move(kernel)).first;
    }
    return found->second->Run(weights, inputs, out);
  }

  absl::Status AllReduceAverage(std::span<float> data, CommStats& stats, Trace* trace,
                                int trace_pid) override {
    return CountedAllReduce(comm_, data, ReduceOp::kAverage, stats, trace, trace_pid);
  }

  PendingCollective StartAllReduceAverage(std::span<float> data, CommStats& stats, Trace* trace,
                                          int trace_pid) override {
    return PostCountedAllReduce(lane_, comm_, data, ReduceOp::kAverage, stats, trace, trace_pid);
  }

  absl::Status Broadcast(std::span<float> data, int root, CommStats& stats, Trace* trace,
                         int trace_pid) override {
    return CountedBroadcast(comm_, data, root, stats, trace, trace_pid);
  }

  std::unique_ptr<ModelExchange> CreateExchange(ExchangeKind kind, size_t length, int messages,
                                                CommStats* stats, WireFormat wire,
                                                uint64_t rounding_seed) override {
    return std::make_unique<NeighborExchange>(&comm_, kind, length, messages, stats, wire,
                                              rounding_seed);
  }

 private:
  Communicator& comm_;
  // The weighted-sum kernels, built on first use per (number of inputs, length), so that a
  // steady-state step does not allocate.
  std::map<std::pair<int, int64_t>, std::unique_ptr<cpu::WeightedSumCpu>> kernels_;
  // Last, so that it closes (finishing the all-reduce it runs) before anything it uses goes.
  CollectiveLane lane_;
};

}  // namespace

std::unique_ptr<BucketDevice> CreateHostBucketDevice(Communicator& comm) {
  return std::make_unique<HostBucketDevice>(comm);
}

BucketDevice* DeviceOf(const AlgorithmContext& context, std::unique_ptr<BucketDevice>& owned) {
  if (context.device != nullptr) return context.device;
  owned = CreateHostBucketDevice(*context.comm);
  return owned.get();
}

}  // namespace ald
