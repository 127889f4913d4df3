// D-PSGD (the gossip rule) in adapt-then-combine form (local step per bucket, exchange,
// x_i = Σ_j W_ij·y_j per bucket once its exchange is in) or adapt-with-combine form (x_t sent as
// the step begins, x_i = Σ_j W_ij·x_j then the local step). Over sampled matchings the same rule
// is MATCHA (matcha.cc); AL-DSGD (aldsgd.h) holds one as its base rule.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "comm/algorithms/algorithm.h"
#include "comm/algorithms/bucket_device.h"
#include "comm/model_exchange.h"
#include "comm/topology/topology.h"

namespace ald {

class Dpsgd final : public Algorithm {
 public:
  // OK when the context has a communicator and a topology of the same size and the buckets
  // tile the buffers; otherwise an error that starts with `algorithm`.
  static absl::Status CheckContext(const AlgorithmContext& context, const char* algorithm);
  // FailedPrecondition naming both when the topology's scheme is not `scheme`.
  static absl::Status RequireScheme(const AlgorithmContext& context, Scheme scheme,
                                    const char* algorithm);

  // `context` must have passed CheckContext.
  Dpsgd(const AlgorithmContext& context, const char* name);

  const char* name() const override { return name_; }
  absl::Status Start() override;
  absl::Status BeginStep(int64_t step, const LocalStep& local) override;
  absl::Status UpdateAndPost(int bucket) override;
  // The combine over this step's mixing row (MixingRow()).
  absl::Status EndStep() override { return EndStepWithWeights(MixingRow()); }
  absl::Status Combine(int bucket) override;
  // Adapt with combine sends the whole model as the step begins, so it must be complete then.
  bool CombinesMayWaitForTheForward() const override { return !adapt_with_combine(); }
  void SetTrace(Trace* trace, int pid) override;

  // What AL-DSGD builds on.
  // The one hook: runs on each bucket after its local step and before its post (AL-DSGD's
  // paper form adds its corrective force there). Unset: nothing.
  using LocalStepCorrection = std::function<absl::Status(int bucket)>;
  void SetLocalStepCorrection(LocalStepCorrection correction) {
    correction_ = std::move(correction);
  }
  // W's row over [self, this step's neighbours in exchange order].
  std::vector<double> MixingRow() const;
  // EndStep with the weights of x_i = Σ_m w_m·y_m over [self, neighbours] (a reweighted row).
  absl::Status EndStepWithWeights(std::span<const double> weights);
  const Neighborhood& neighborhood() const { return neighborhood_; }
  const LocalStep& local_step() const { return local_; }
  bool adapt_with_combine() const {
    return options_.combine == CombineOrder::kAdaptWithCombine;
  }
  BucketDevice& device() const { return *device_; }
  CommStats& mutable_stats() { return stats_; }

 private:
  // Adapt-with-combine: posts x_t, the whole model (the parameters, untouched until Combine).
  absl::Status PostPreStepModels();
  // The local step with this weight decay (AWC folds the step's decay in before the combine).
  absl::Status SgdBucket(int bucket, float weight_decay);
  std::span<float> Bucket(std::span<float> buffer, int bucket) const {
    return buffer.subspan(buffers_.buckets[bucket].offset, buffers_.buckets[bucket].size);
  }

  const char* name_;
  Communicator* comm_;
  const Topology* topology_;
  std::function<absl::StatusOr<Neighborhood>(int64_t step)> neighborhoods_;
  WorkerBuffers buffers_;
  AlgorithmOptions options_;
  std::unique_ptr<BucketDevice> owned_device_;  // the host's, when the context names none
  BucketDevice* device_;
  LocalStepCorrection correction_;

  Neighborhood neighborhood_;
  LocalStep local_;
  int64_t step_ = 0;
  // What each message of the model exchange carries: the buckets (adapt-then-combine), or the
  // whole model in as few pieces as possible (adapt-with-combine).
  std::vector<BucketSpan> exchange_spans_;
  std::unique_ptr<ModelExchange> models_;
  // This step's exchange has begun: with its first posted bucket (adapt then combine) or in
  // BeginStep (adapt with combine).
  bool exchange_begun_ = false;
  // The step's combine weights over [self, neighbours], fixed by EndStep and read by its
  // combines, which may run after the next BeginStep.
  std::vector<float> combine_weights_;
  // Reused every step so that a steady-state step does not allocate.
  std::vector<std::span<const float>> inputs_;
};

}  // namespace ald
