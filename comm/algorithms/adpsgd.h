// AD-PSGD (Lian et al. 2018, asynchronous decentralized parallel SGD): no barriers; after each
// gradient, a worker averages its model atomically with one neighbour, then applies the gradient.
//
// Pairing. The base graph's nodes are 2-coloured by the parity of their BFS depth from rank 0:
// even depth = active, odd = passive. Only edges between the colours are used (that subgraph is
// bipartite and holds the BFS tree, so it is connected); on a ring of even size the actives are
// exactly the even ranks. Actives start every average; passives only serve them, so no two
// workers ever wait for each other in a cycle (the paper's deadlock-free scheme).
//
// Protocol (tags kRequestTag / kReplyTag; a message is n + 1 floats: a kind, then a model):
// - Active i, in EndStep: picks a passive neighbour j uniformly at random (a seeded stream per
//   worker), posts the receive of the reply, sends (kAverage, x_i), and waits for the reply
//   (the communicator's deadline). The reply is (x_i + x_j)/2, computed once by j, and i adopts
//   it bit for bit; i changes nothing in between, so the average is atomic on i's side. Then i
//   applies its gradient (computed at the x_i of BeginStep) to the averaged x_i.
// - Passive j: a serving thread started in Start() keeps a receive posted for every active
//   neighbour and answers each request as it comes, while j computes. Under j's mutex it sets
//   x_j ← (x_i + x_j)/2 and sends that same vector back, so both end with the same average of
//   the same pre-average values, and x_i + x_j is conserved (to one rounding).
//   The serving thread updates j's *logical* model, a buffer the algorithm owns, never the
//   parameter buffer the executor reads during forward and backward (that would be a data
//   race). The logical model is published into the parameters in BeginStep (before forward)
//   and EndStep (after backward), where j's own gradient is applied to it under the mutex. So
//   j's gradient is computed at a model at most one step stale, as in the paper's analysis.
// - Shutdown: Stop() (also run by the destructor). An active sends (kGoodbye, zeros) to every
//   passive neighbour; it has no request in flight, since EndStep waits for each reply. A
//   passive keeps serving until every active neighbour has said goodbye (so pending requests
//   are drained), then joins its thread and publishes its logical model. Every wait has the
//   communicator's deadline; a passive that is not told goodbye in time abandons its thread
//   and reports the silent neighbours. A failed receive or send (a dead peer) stops the serving
//   thread and is returned by the passive's next hook.
// With the MPI backend the serving thread needs MPI_THREAD_MULTIPLE.
// CommStats: an active counts its requests and goodbyes and the time it waits for replies; a
// passive counts the replies its thread sends (folded in at each hook), and no waiting, since
// its own steps never wait on anyone.
#pragma once

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "comm/algorithms/algorithm.h"
#include "core/rng.h"
#include "ops/mixing.h"
#include "ops/sgd.h"

namespace ald {

class Adpsgd final : public Algorithm {
 public:
  static constexpr int kRequestTag = 7100;
  static constexpr int kReplyTag = 7101;
  static constexpr float kAverage = 0.0f;
  static constexpr float kGoodbye = 1.0f;

  // The base graph is context.topology's copy 0, or a ring of all workers without a topology.
  static absl::StatusOr<std::unique_ptr<Adpsgd>> Create(const AlgorithmContext& context);
  ~Adpsgd() override;  // Stop(), its error dropped: call Stop() to see it

  const char* name() const override { return "adpsgd"; }
  absl::Status Start() override;
  absl::Status BeginStep(int64_t step, const LocalStep& local) override;
    // Nothing to do per bucket: the gradient is applied after the average, in EndStep.
  absl::Status UpdateAndPost(int bucket) override;
  absl::Status EndStep() override;
  // Ends this worker's part in the protocol (see above); later calls return the same status.
  absl::Status Stop();
  absl::Status Finish() override { return Stop(); }

  bool active() const { return active_; }
  // The neighbours of the other colour, ascending: whom an active asks, whom a passive serves.
  const std::vector<int>& partners() const { return partners_; }

 private:
  Adpsgd(const AlgorithmContext& context, bool active, std::vector<int> partners,
         std::unique_ptr<cpu::WeightedSumCpu> average_kernel);

  absl::Status ActiveEndStep();
  absl::Status PassiveEndStep();
  // Copies the logical model into the parameters and folds the thread's counts into stats_.
  void PublishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The serving thread's body; its error is kept in serve_status_.
  void Serve();
  absl::Status ServeLoop();
  absl::Status Answer(int peer, std::span<const float> request);

  Communicator& comm_;
  WorkerBuffers buffers_;
  AlgorithmOptions options_;
  const bool active_;
  const std::vector<int> partners_;
  cpu::SgdConfig config_;
  Rng partner_rng_;
  bool started_ = false;
  bool stopped_ = false;
  absl::Status stop_status_;
  // The active's message buffers (n + 1 floats out, n floats back).
  std::vector<float> request_, reply_;

  // The passive's side, shared with its serving thread.
  absl::Mutex mu_;
  std::vector<float> logical_ ABSL_GUARDED_BY(mu_);
  bool logical_changed_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<cpu::WeightedSumCpu> average_kernel_ ABSL_GUARDED_BY(mu_);
  int64_t served_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t served_messages_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int> open_partners_ ABSL_GUARDED_BY(mu_);  // not yet said goodbye
  bool serving_done_ ABSL_GUARDED_BY(mu_) = false;
  bool abandon_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status serve_status_ ABSL_GUARDED_BY(mu_);
  std::vector<float> answer_;  // the serving thread's reply buffer
  std::thread server_;
};

}  // namespace ald
