// The pipelined training step on a GPU (DESIGN.md, "Pipeline"), for the algorithms whose per-bucket
// work is plain device arithmetic: all-reduce SGD, the D-PSGD family (D-PSGD, MATCHA: the
// neighbours and weights of this step come from a Topology) and AL-DSGD's code form. As each bucket of a CudaPlan is
// final, the communication stream waits for the bucket's event and then runs the bucket's work:
//   all-reduce SGD  average the gradients over all ranks (NCCL), then the SGD step;
//   decentralized   the SGD step (adapt), the exchange of y with this step's neighbours (one NCCL
//                   group), then x = w_ii y + sum_j w_ij y_j (combine),
//   AL-DSGD         the same adapt and exchange; the combine, whose weights follow the adjacent
//                   leader and the max-degree neighbour, is enqueued at EndStep, once the
//                   neighbours' losses and degrees (8 bytes each, over the host communicator)
//                   are in: the models still travel during backward,
// and records the bucket's "combined" event. The next step's forward makes the compute stream
// wait for that event just before its first read of the bucket, so the exchange overlaps the
// rest of backward and the start of the next forward. The host only enqueues; the device does
// all the waiting. Parameters, gradients and momentum stay on the device (no host staging).
//
// Updates match the CPU's bit for bit (ops/cuda/sgd.h, ops/cuda/mixing.h) given the same
// gradients. AL-DSGD's paper form, EASGD, LSGD and AD-PSGD still run on the CPU only. It is an Algorithm, so the training loop drives it through the same
// hooks as the CPU algorithms: BeginStep before the plan runs; the plan's bucket callbacks call
// OnBucketReady and OnBucketNeeded (a sequential step calls OnBucketReady after Run instead, and
// EndStep then makes the compute stream wait for every combine).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/algorithm.h"
#include "comm/communicator.h"
#include "comm/neighbor_exchange.h"
#include "comm/topology.h"
#include "graph/cuda/cuda_plan.h"
#include "ops/cuda/device_buffer.h"
#include "ops/sgd.h"

namespace ald::cuda {

// Who this rank exchanges with at `step` (normally Topology::NeighborhoodAt for this rank).
using NeighborhoodSource = std::function<absl::StatusOr<Neighborhood>(int64_t step)>;

class NcclTrainingStep final : public Algorithm {
 public:
  // All-reduce SGD over every rank of `nccl` (from CreateNcclCommunicator). Of `options`, the
  // step reads sync_init (Start broadcasts rank 0's parameters) and defer_combine.
  static absl::StatusOr<std::unique_ptr<NcclTrainingStep>> AllReduce(
      CudaPlan& plan, Communicator& nccl, const AlgorithmOptions& options = {});
  // The D-PSGD family: `neighbors` gives each step's neighbours and mixing weights;
  // `max_degree` bounds their number (it sizes the receive buffers once).
  static absl::StatusOr<std::unique_ptr<NcclTrainingStep>> Decentralized(
      CudaPlan& plan, Communicator& nccl, NeighborhoodSource neighbors, int max_degree,
      const AlgorithmOptions& options = {});
  // AL-DSGD, code form, over the D-PSGD family's exchange, with options' c1, c2, p1, p2; the
  // losses and degrees go over `host` (the communicator that started NCCL).
  static absl::StatusOr<std::unique_ptr<NcclTrainingStep>> Aldsgd(
      CudaPlan& plan, Communicator& nccl, Communicator& host, NeighborhoodSource neighbors,
      int max_degree, const AlgorithmOptions& options);

  NcclTrainingStep(const NcclTrainingStep&) = delete;
  NcclTrainingStep& operator=(const NcclTrainingStep&) = delete;

  const char* name() const override;
  // Rank 0's parameters everywhere (waits), when options.sync_init.
  absl::Status Start() override;
  absl::Status BeginStep(int64_t step, const LocalStep& local) override;
  // AL-DSGD: sends this step's loss and degree to the neighbours (the others ignore it).
  absl::Status OnLoss(float loss) override;
  absl::Status OnBucketReady(int bucket) override;
  // AL-DSGD: waits for the neighbours' losses, then enqueues every bucket's combine. Without
  // defer_combine: the compute stream waits for every bucket's combine (no host wait).
  absl::Status EndStep() override;
  absl::Status OnBucketNeeded(int bucket) override;
  // Makes the compute stream wait for every combine still pending and waits for both streams:
  // afterwards the device parameters are x_i (before evaluating, saving or downloading them).
  absl::Status Flush() override;

 private:
  enum class Kind { kAllReduce, kDecentralized, kAldsgd };
  NcclTrainingStep(CudaPlan& plan, Communicator& nccl, Kind kind, const AlgorithmOptions& options);
  static absl::StatusOr<std::unique_ptr<NcclTrainingStep>> WithNeighbors(
      Kind kind, CudaPlan& plan, Communicator& nccl, NeighborhoodSource neighbors, int max_degree,
      const AlgorithmOptions& options);
  absl::Status CreateEvents();
  // Neighbour k's copy of the whole parameter vector.
  float* Slot(int k) { return received_.data() + static_cast<size_t>(k) * plan_.num_parameters(); }
  // Enqueue on the communication stream: y to and from this step's neighbours; x = the weighted
  // sum of y and theirs; the bucket's combined event.
  absl::Status Exchange(int bucket);
  absl::Status Mix(int bucket, std::span<const float> weights);
  absl::Status MarkCombined(int bucket);
  absl::Status CombineAldsgd();

  CudaPlan& plan_;
  Communicator& nccl_;
  const Kind kind_;
  const AlgorithmOptions options_;
  NeighborhoodSource neighbors_;
  int max_degree_ = 0;
  DeviceBuffer<float> received_;  // max_degree_ slots of the whole parameter vector
  std::vector<OwnedEvent> combined_;
  std::vector<bool> pending_;  // combined event recorded, compute stream not yet made to wait
  cpu::SgdConfig sgd_;
  Neighborhood neighborhood_;
  std::vector<float> weights_;  // self first, then the neighbours in exchange order
  bool in_step_ = false;
  // AL-DSGD: this step's loss and active degree, sent to each neighbour (null: no leaders).
  std::unique_ptr<NeighborExchange> scalars_;
  std::vector<float> my_scalars_ = std::vector<float>(2, 0.0f);
  bool loss_known_ = false;
};

}  // namespace ald::cuda
