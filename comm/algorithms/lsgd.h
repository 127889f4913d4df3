// LSGD (Teng et al. 2019, "Leader Stochastic Gradient Descent"): every worker is pulled toward
// the current leader, the worker with the lowest running-average loss, re-elected every τ steps.
//
// Election (steps with step % τ == 0, and the first step seen): each worker's running average
// is the mean of the losses it reported since the previous election, this step's included. An
// all-reduce (sum) of an n-slot vector, one slot per rank and zeros elsewhere, gives every
// worker all n averages; the leader L is the lowest, ties to the lowest rank (NaN never wins
// unless all are NaN). Then, bucket by bucket as its gradients become final, L broadcasts that
// bucket of its parameters before updating it, so every worker holds the same copy x_L of L's
// pre-step parameters until the next election.
// Every step, per bucket, with x_i the pre-step parameters (as in EASGD):
//   x_i ← x_i − γ(g_i + wd·x_i) (+ momentum) − λ(x_i − x_L)
// λ is a constant, not scaled by γ (DESIGN.md). The leader itself drifts from its copy between
// elections and is pulled back toward it.
#pragma once

#include <memory>
#include <vector>

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "comm/algorithms/algorithm.h"
#include "comm/algorithms/pulled_sgd_step.h"
#include "ops/sgd.h"

namespace ald {

class Lsgd final : public Algorithm {
 public:
  // InvalidArgument unless λ >= 0 and τ >= 1.
  static absl::StatusOr<std::unique_ptr<Lsgd>> Create(const AlgorithmContext& context);

  const char* name() const override { return "lsgd"; }
  absl::Status Start() override;
  absl::Status BeginStep(int64_t step, const LocalStep& local) override;
  // Adds the loss to the running average and, on an election step, elects the leader.
  absl::Status ShareLoss(float loss) override;
  absl::Status UpdateAndPost(int bucket) override;
  absl::Status EndStep() override { return absl::OkStatus(); }

  // The rank elected last, -1 before the first election.
  int leader() const { return election_[0]; }
  const std::vector<float>& leader_copy() const { return leader_copy_; }
  std::vector<AlgorithmStateTensor> State() override;

 private:
  Lsgd(const AlgorithmContext& context, PulledSgdStep pulled_step)
      : comm_(*context.comm),
        buffers_(context.buffers),
        options_(context.options),
        pulled_step_(std::move(pulled_step)),
        leader_copy_(context.buffers.params.size()),
        averages_(context.comm->size()) {}

  Communicator& comm_;
  WorkerBuffers buffers_;
  AlgorithmOptions options_;
  PulledSgdStep pulled_step_;
  std::vector<float> leader_copy_;
  std::vector<float> averages_;  // the election's all-reduce buffer
  // What a resumed run must restore (State()): the leader and how many losses the running
  // average since the last election holds, and their sum (in float, so that it can be saved as
  // it is).
  std::array<int32_t, 2> election_ = {-1, 0};  // leader, loss count
  std::array<float, 1> loss_sum_ = {0.0f};
  cpu::SgdConfig config_;
  int64_t step_ = 0;
  bool electing_ = false;  // this step elects a leader
  bool elected_ = false;   // ... and ShareLoss has done so
};

}  // namespace ald
