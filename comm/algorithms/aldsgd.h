// AL-DSGD (arXiv 2405.11389): D-PSGD or MATCHA whose workers are also drawn toward their adjacent
// leader (lowest loss) and max-degree neighbour, in the authors' code form or the paper's form.
#pragma once

#include <array>
#include <memory>
#include <span>
#include <vector>

#include "comm/algorithms/dpsgd.h"
#include "comm/model_exchange.h"
#include "comm/neighbor_exchange.h"

namespace ald {

// Positions in C_i = [self, active neighbours in exchange order].
struct AldsgdLeaders {
  int loss_leader = 0;  // N
  int max_degree = 0;   // tau
};

// N = argmin loss, tau = argmax degree; ties go to the earlier position (self first, then
// ascending matching order).
AldsgdLeaders ChooseLeaders(std::span<const float> losses, std::span<const int> degrees);

// Folds the code form's three steps (base combine z0 = Σ_m W_im·y_m, boost
// z = (1 − c1 − c2)·z0 + c1·y_N + c2·y_tau, pull x = z − p1·(z − y_N) − p2·(z − y_tau)) into the
// weights of one sum x = Σ_m w_m·y_m, so the combine is one pass over memory. `weights` comes
// in as W's row over C_i. The paper form's combine is this with p1 = p2 = 0. With all four
// coefficients 0 the row is left exactly as it is, so AL-DSGD then equals its base bitwise.
void FoldLeaderWeights(const AldsgdLeaders& leaders, double c1, double c2, double p1, double p2,
                       std::vector<double>& weights);

class Aldsgd final : public Algorithm {
 public:
  // `context` must have passed Dpsgd::CheckContext.
  explicit Aldsgd(const AlgorithmContext& context);

  const char* name() const override { return "aldsgd"; }
  absl::Status Start() override { return base_.Start(); }
  absl::Status BeginStep(int64_t step, const LocalStep& local) override;
  absl::Status ShareLoss(float loss) override;
  absl::Status UpdateAndPost(int bucket) override { return base_.UpdateAndPost(bucket); }
  // Picks N and tau (waiting for the neighbours' losses and degrees) and folds them into the
  // base rule's combine weights.
  absl::Status EndStep() override;
  absl::Status Combine(int bucket) override { return base_.Combine(bucket); }
  // The paper form sends the pre-step model as the step begins, so it must be complete then.
  bool CombinesMayWaitForTheForward() const override {
    return !corrective_ && base_.CombinesMayWaitForTheForward();
  }
  void SetTrace(Trace* trace, int pid) override;
  const CommStats& stats() const override { return base_.stats(); }
  const LeaderCounts* leader_counts() const override { return &leader_counts_; }
  // The running average of the loss, when the leader is chosen by one (it must survive a resume).
  std::vector<AlgorithmStateTensor> State() override;

 private:
  // Once a step: waits for the neighbours' losses and degrees and picks N and tau.
  absl::Status ResolveLeaders();
  // Adds the leaders just chosen to leader_counts_.
  void CountLeaders();
  // The paper form's corrective force on bucket `bucket`, inside the base rule's local step.
  absl::Status PullTowardLeaders(int bucket);

  // Some coefficient is nonzero, so the leaders matter and losses are exchanged.
  bool needs_leaders_;
  // Paper form with a pull (p1 or p2 nonzero): the pre-step models are exchanged too.
  bool corrective_;
  // The base rule (D-PSGD or MATCHA, as the topology's scheme says); it counts the traffic.
  Dpsgd base_;
  WorkerBuffers buffers_;
  AlgorithmOptions options_;
  const int rank_;
  NeighborExchange scalars_;  // on the host in fp32, whatever the device and the wire
  std::unique_ptr<ModelExchange> pre_step_;  // on the device
  // x_i as the step began: sent, and the pull's anchor (device memory on a GPU).
  std::span<float> pre_step_x_;
  std::vector<float> pre_step_storage_;
  std::array<float, 2> my_scalars_ = {0.0f, 0.0f};  // loss, active degree
  bool loss_known_ = false;
  bool leaders_known_ = false;
  AldsgdLeaders leaders_;
  // Running average of the loss and whether it has a first value yet (leader_loss_beta > 0).
  std::array<float, 2> loss_average_ = {0.0f, 0.0f};
  LeaderCounts leader_counts_;
  int previous_loss_leader_ = -1, previous_degree_leader_ = -1;  // ranks; -1: none yet
  std::vector<float> losses_;
  std::vector<int> degrees_;
  std::vector<float> pull_weights_;
  std::vector<std::span<const float>> pull_inputs_;
};

}  // namespace ald
