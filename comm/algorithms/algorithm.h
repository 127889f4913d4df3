// A distributed training algorithm as a rule: what one worker does with its parameters and
// gradients around each training step (DESIGN.md, "Distributed algorithms"). The step scheduler
// (graph/step_scheduler.h) decides when each hook runs; an algorithm holds no scheduling state.
// Each algorithm is one class in its own file; registry.h is the one list of their names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "comm/topology/topology.h"
#include "comm/transfer.h"
#include "comm/wire_format.h"
#include "core/tensor.h"
#include "core/trace.h"

namespace ald {

class BucketDevice;

// One worker's flat buffers (not owned): x_i, g_i and the optimizer's momentum, all of the
// same length, tiled by the buckets in the order their gradients become final. On a GPU they
// are device memory: only a BucketDevice's kernels touch them.
struct WorkerBuffers {
  std::span<float> params;
  std::span<float> grads;
  std::span<float> momentum;
  std::vector<BucketSpan> buckets;
};

// The local step y = x - lr * (g + wd * x) (+ momentum), PyTorch's SGD (ops/sgd.h).
struct LocalStep {
  float lr = 0.1f;
  float momentum = 0.0f;
  bool nesterov = false;
  float weight_decay = 0.0f;
};

enum class AldsgdForm {
  kCode,   // the authors' code: base combine, then boost and pull (one exchange per step)
  kPaper,  // the paper: corrective force inside the local step (a second exchange)
};

// Where a decentralized rule (D-PSGD, MATCHA, AL-DSGD's code form) takes its local step.
enum class CombineOrder {
  // Adapt then combine (the default; the authors' code): y_i = SGD(x_i), x_i = Σ_j W_ij·y_j.
  // Each bucket is sent once its gradients are final, so the exchange overlaps the backward.
  kAdaptThenCombine,
  // Adapt with combine (Lian et al.'s D-PSGD; BlueFog's AWC): x_i = Σ_j W_ij·x_j + (SGD(x_i) −
  // x_i). The models are final when the step begins, so the exchange overlaps the whole step.
  kAdaptWithCombine,
};

struct AlgorithmOptions {
  CombineOrder combine = CombineOrder::kAdaptThenCombine;
  // AL-DSGD (DESIGN.md): coefficients of the adjacent leader N (c1, p1) and of the
  // max-degree neighbour tau (c2, p2); all zero with one graph copy = its base algorithm.
  AldsgdForm aldsgd_form = AldsgdForm::kCode;
  double c1 = 0.3, c2 = 0.1, p1 = 0.2, p2 = 0.2;
  // The loss AL-DSGD's adjacent leader is chosen by: 0, this step's batch loss (the authors'
  // choice); beta in (0, 1), the running average m = beta m + (1 - beta) loss over this worker's
  // steps (m = the first loss), which LSGD's leader election also smooths with.
  double leader_loss_beta = 0.0;
  // EASGD: moving rate beta (alpha = beta / n) and communication period tau.
  double easgd_beta = 0.9;
  // LSGD: pull strength lambda toward the leader, refreshed every tau steps.
  double lsgd_lambda = 0.1;
  int tau = 1;
  // How models travel (comm/wire_format.h): fp32, or rounded to bf16 at half the
  // bytes. The own model is never rounded; the start from rank 0's model and AL-DSGD's loss and
  // degree always travel in fp32.
  WireFormat wire = WireFormat::kFp32;
  // All workers start from rank 0's parameters (broadcast in Start()).
  bool sync_init = true;
  uint64_t seed = 0;
};

// AL-DSGD's leader diagnostics, counted over the steps in which a worker chose its leaders
// (some neighbour was active), from the start of the run.
struct LeaderCounts {
  int64_t steps = 0;
  // The adjacent leader (degree leader) is another rank than at the previous such step.
  int64_t loss_leader_changes = 0, degree_leader_changes = 0;
  // The worker is its own adjacent leader (degree leader).
  int64_t own_loss_leader = 0, own_degree_leader = 0;
};

// A piece of an algorithm's own state, as a view into its storage (see Algorithm::State).
struct AlgorithmStateTensor {
  std::string name;  // "easgd/center"
  Tensor tensor;
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  virtual const char* name() const = 0;

  // Once, before the first step (e.g. adopt rank 0's parameters when sync_init).
  virtual absl::Status Start() = 0;
  // Step `step` begins: choose this step's graph; `local` is this step's optimizer setting
  // (the lr follows a schedule). The parameters are x_i, except for buckets whose combine the
  // scheduler deferred (only when CombinesMayWaitForTheForward()).
  virtual absl::Status BeginStep(int64_t step, const LocalStep& local) = 0;
  // This worker's loss (mean over its batch, before the update), once a step, before EndStep.
  virtual absl::Status ShareLoss(float /*loss*/) { return absl::OkStatus(); }
  // The gradients of bucket `bucket` are final: the local update of the bucket and the post of
  // its exchange. Called once a step for each bucket, in the order the plan finishes them;
  // before the first, the previous step's combines are all done.
  virtual absl::Status UpdateAndPost(int bucket) = 0;
  // Every bucket was updated and posted: wait for what must be complete before the combines
  // (e.g. the neighbours' losses) and fix the combine weights.
  virtual absl::Status EndStep() = 0;
  // After EndStep: finish bucket `bucket`'s step (wait for its exchange, combine); afterwards
  // that bucket holds x_i for the next step. A no-op for rules that finish in UpdateAndPost.
  virtual absl::Status Combine(int /*bucket*/) { return absl::OkStatus(); }
  // Whether Combine may wait until the next forward reads the bucket (after the next
  // BeginStep). False when BeginStep itself reads or sends the whole model.
  virtual bool CombinesMayWaitForTheForward() const { return true; }
  // After the last step, before the final evaluation: an asynchronous algorithm drains its
  // peers and publishes its final parameters here (errors name the peer).
  virtual absl::Status Finish() { return absl::OkStatus(); }

  // What a resumed run needs beyond the parameters, momentum and running statistics to go on
  // along the same trajectory (EASGD's center, LSGD's leader copy and election), as views into
  // the algorithm's storage: checkpoints save them, a resume writes into them after Start().
  virtual std::vector<AlgorithmStateTensor> State() { return {}; }

  virtual const CommStats& stats() const { return stats_; }
  // Null for algorithms without leaders.
  virtual const LeaderCounts* leader_counts() const { return nullptr; }

  // Records this worker's updates, transfers and waits into `trace` (not owned; null stops) as
  // worker `pid` (DESIGN.md, "Profiling"). An algorithm with helpers that trace overrides it
  // to pass the trace on.
  virtual void SetTrace(Trace* trace, int pid) {
    trace_ = trace;
    trace_pid_ = pid;
  }

 protected:
  // The local update of one bucket as a trace event on the compute thread, until the scope
  // ends (nothing while tracing is off).
  ScopedTraceEvent TraceUpdate(int bucket) const {
    return ScopedTraceEvent(trace_, trace_pid_, kComputeTid, "update", "compute",
                            {{"bucket", bucket}});
  }

  CommStats stats_;
  Trace* trace_ = nullptr;
  int trace_pid_ = 0;
};

// What every algorithm is built from.
struct AlgorithmContext {
  Communicator* comm = nullptr;        // not owned: the host communicator
  const Topology* topology = nullptr;  // not owned; unused by centralized algorithms
  WorkerBuffers buffers;
  AlgorithmOptions options;
  // Where the buffers live and the bucket arithmetic and model exchanges run (not owned);
  // null: the host, over `comm` (see bucket_device.h).
  BucketDevice* device = nullptr;
  // Who this rank exchanges with at each step; unset: topology->NeighborhoodAt(step, rank).
  // (A test on one GPU makes the rank its own neighbour, which no Topology describes.)
  std::function<absl::StatusOr<Neighborhood>(int64_t step)> neighborhoods = nullptr;
};

}  // namespace ald
