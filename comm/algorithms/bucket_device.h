// Where an algorithm's buffers live and its bucket work runs: the host (oneDNN-free CPU loops,
// the communicator's requests waited for on the host) or a GPU (kernels and NCCL enqueued on
// the plan's communication stream, never waited for on the host). The rules (D-PSGD, MATCHA,
// AL-DSGD, all-reduce SGD) are written once against it, so the CPU and the GPU share them.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "comm/algorithms/algorithm.h"
#include "comm/collective_lane.h"
#include "comm/communicator.h"
#include "comm/model_exchange.h"
#include "comm/neighbor_exchange.h"
#include "comm/transfer.h"
#include "core/device.h"
#include "core/trace.h"
#include "ops/sgd.h"

namespace ald {

class BucketDevice {
 public:
  virtual ~BucketDevice() = default;
  // The memory the buffers are in (kCpu or kCuda).
  virtual DeviceType memory() const = 0;

  // The SGD step on one slice (ops/sgd.h); `momentum` is empty when config.momentum is 0.
  virtual absl::Status SgdStep(const cpu::SgdConfig& config, std::span<float> params,
                               std::span<const float> grads, std::span<float> momentum) = 0;
  // g ← g + wd·x (the decay of a step whose base is not x).
  virtual absl::Status AddWeightDecay(float weight_decay, std::span<const float> params,
                                      std::span<float> grads) = 0;
  // out = Σ_m weights[m]·inputs[m], summed in input order so the bits never depend on timing.
  virtual absl::Status WeightedSum(std::span<const float> weights,
                                   std::span<const std::span<const float>> inputs,
                                   std::span<float> out) = 0;
  // data ← the mean of every rank's data, counted in `stats` (and traced on the host).
  virtual absl::Status AllReduceAverage(std::span<float> data, CommStats& stats, Trace* trace,
                                        int trace_pid) = 0;
  // AllReduceAverage without waiting for it: the caller waits on the result before it touches
  // `data` again. All-reduces started so run in the order they were started, and a blocking
  // collective must not be called while one is in flight. The host runs them on a thread of its
  // own (traced there); a GPU enqueues them on its stream, so they are done as far as the host
  // is concerned.
  virtual PendingCollective StartAllReduceAverage(std::span<float> data, CommStats& stats,
                                                  Trace* trace, int trace_pid) = 0;
  // data ← rank `root`'s data, counted in `stats`; the host waits for it (the start of training).
  virtual absl::Status Broadcast(std::span<float> data, int root, CommStats& stats, Trace* trace,
                                 int trace_pid) = 0;
  // A neighbour exchange of `length` floats in `messages` messages over this device's memory,
  // in wire format `wire` (the GPU's moves fp32 only: Dpsgd::CheckContext refuses bf16 there),
  // whose stochastic rounding `rounding_seed` (the run's seed) keys.
  virtual std::unique_ptr<ModelExchange> CreateExchange(ExchangeKind kind, size_t length,
                                                        int messages, CommStats* stats,
                                                        WireFormat wire,
                                                        uint64_t rounding_seed) = 0;
};

// The host device over `comm` (not owned; CPU memory).
std::unique_ptr<BucketDevice> CreateHostBucketDevice(Communicator& comm);

// The device an algorithm built from `context` uses: context.device, or when it names none a
// host device over context.comm, which `owned` then keeps.
BucketDevice* DeviceOf(const AlgorithmContext& context, std::unique_ptr<BucketDevice>& owned);

}  // namespace ald
