// D-PSGD in adapt-then-combine form (local step per bucket, exchange, x_i = Σ_j W_ij·y_j at step
// end, or per bucket just before the next forward reads it) or adapt-with-combine form (x_t sent
// as the step begins, x_i = Σ_j W_ij·x_j then the local step, at step end); over sampled
// matchings the same class is MATCHA, and AL-DSGD derives from it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "comm/algorithm.h"
#include "comm/neighbor_exchange.h"
#include "comm/topology.h"
#include "ops/mixing.h"

namespace ald {

class Dpsgd : public Algorithm {
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
  absl::Status OnLoss(float loss) override;
  absl::Status OnBucketReady(int bucket) override;
  absl::Status EndStep() override;
  absl::Status OnBucketNeeded(int bucket) override;
  absl::Status Flush() override;
  void SetTrace(Trace* trace, int pid) override;

 protected:
  // The local step of one bucket, in place: y_b = SGD(x_b, g_b).
  virtual absl::Status Adapt(int bucket);
  // Called at step end with W's row over [self, neighbours in exchange order] (the weights of
  // x_i = Σ_m w_m·y_m); a variant may reweight it. Only called when a neighbour is active.
  virtual absl::Status CombineWeights(std::vector<double>& weights);
  // out = Σ_m weights[m]·inputs[m], summed in input order so the bits never depend on timing.
  absl::Status WeightedSum(std::span<const float> weights,
                           std::span<const std::span<const float>> inputs, std::span<float> out);

  Communicator& comm() const { return *comm_; }
  const WorkerBuffers& buffers() const { return buffers_; }
  const AlgorithmOptions& options() const { return options_; }
  const Neighborhood& neighborhood() const { return neighborhood_; }
  const LocalStep& local_step() const { return local_; }
  bool adapt_with_combine() const {
    return options_.combine == CombineOrder::kAdaptWithCombine;
  }
  bool in_step() const { return in_step_; }
  int num_buckets() const { return static_cast<int>(buffers_.buckets.size()); }
  std::span<float> Bucket(std::span<float> buffer, int bucket) const {
    return buffer.subspan(buffers_.buckets[bucket].offset, buffers_.buckets[bucket].size);
  }

 private:
  const char* name_;
  Communicator* comm_;
  const Topology* topology_;
  WorkerBuffers buffers_;
  AlgorithmOptions options_;

  Neighborhood neighborhood_;
  LocalStep local_;
  // The exchange of this step's models; it begins with the step's first bucket (adapt with
  // combine, pipelined: with the step), after the previous step's deferred combines have read
  // what it received.
  absl::Status BeginExchange();
  // Adapt-with-combine: posts x_t, the whole model (the parameters, untouched until EndStep).
  absl::Status PostPreStepModels();
  // The local step with this weight decay (AWC folds the step's decay in before the combine).
  absl::Status SgdBucket(int bucket, float weight_decay);
  // x_b = Σ_m w_m·y_m for one deferred bucket, once its exchange is complete.
  absl::Status CombineBucket(int bucket);

  std::vector<bool> ready_;  // per bucket, this step
  int num_ready_ = 0;
  bool in_step_ = false;
  bool exchange_begun_ = false;
  // What each message of the model exchange carries: the buckets (adapt-then-combine), or the
  // whole model in as few pieces as possible (adapt-with-combine).
  std::vector<BucketSpan> exchange_spans_;
  NeighborExchange models_;
  // Combines still to do (per bucket), with the weights over [self, neighbours] they use.
  std::vector<bool> deferred_;
  int num_deferred_ = 0;
  std::vector<float> combine_weights_;

  // Reused every step so that a steady-state step does not allocate.
  std::vector<double> weights_;
  std::vector<std::span<const float>> inputs_;
  // The kernels, built on first use per (number of inputs, bucket length).
  std::map<std::pair<int, int64_t>, std::unique_ptr<cpu::WeightedSumCpu>> kernels_;
};

}  // namespace ald
