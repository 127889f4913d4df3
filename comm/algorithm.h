// A distributed training algorithm: what one worker does with its parameters and gradients
// around each training step, through the hooks the step scheduler calls (DESIGN.md,
// "Distributed algorithms"): BeginStep (choose this step's graph), OnLoss (share a scalar),
// OnBucketReady (local update of one bucket, then post its exchange), EndStep (wait for what
// is in flight, combine), and in a pipelined step OnBucketNeeded (the next forward reaches a
// bucket whose combine was deferred). Each algorithm is one class in its own file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "comm/communicator.h"
#include "comm/topology.h"
#include "core/tensor.h"
#include "core/trace.h"

namespace ald {

// A contiguous range of the flat buffers whose gradients become final together.
struct BucketSpan {
  size_t offset = 0;  // in floats
  size_t size = 0;
};

// One worker's flat buffers (not owned): x_i, g_i and the optimizer's momentum, all of the
// same length, tiled by the buckets in the order their gradients become final.
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
  // EASGD: moving rate beta (alpha = beta / n) and communication period tau.
  double easgd_beta = 0.9;
  // LSGD: pull strength lambda toward the leader, refreshed every tau steps.
  double lsgd_lambda = 0.1;
  int tau = 1;
  // All workers start from rank 0's parameters (broadcast in Start()).
  bool sync_init = true;
  // Pipelined step: EndStep may leave a bucket's combine for OnBucketNeeded, so that the tail
  // of the exchange overlaps the next forward (algorithms that cannot defer ignore it); an
  // adapt-with-combine exchange starts in BeginStep instead of with the first ready bucket.
  bool defer_combine = false;
  uint64_t seed = 0;
};

// A piece of an algorithm's own state, as a view into its storage (see Algorithm::State).
struct AlgorithmStateTensor {
  std::string name;  // "easgd/center"
  Tensor tensor;
};

// What a worker sent and how long it waited, for the metrics and the comparison table.
struct CommStats {
  int64_t bytes_sent = 0;
  int64_t messages_sent = 0;
  double wait_seconds = 0;  // time spent blocked in EndStep / collectives
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  virtual const char* name() const = 0;

  // Once, before the first step (e.g. adopt rank 0's parameters when sync_init).
  virtual absl::Status Start() = 0;
  // Step `step` begins; `local` is this step's optimizer setting (the lr follows a schedule).
  virtual absl::Status BeginStep(int64_t step, const LocalStep& local) = 0;
  // The forward pass computed this worker's loss (mean over its batch, before the update).
  virtual absl::Status OnLoss(float loss) = 0;
  // The gradients of bucket `bucket` are final (called in bucket order, each once a step).
  virtual absl::Status OnBucketReady(int bucket) = 0;
  // Backward is done: wait for outstanding exchanges and combine. After it returns, the
  // parameters are x_i for the next step, except that with options.defer_combine a bucket's
  // combine may wait for OnBucketNeeded or Flush.
  virtual absl::Status EndStep() = 0;
  // The next step's forward is about to read bucket `bucket`'s parameters: finish its deferred
  // combine (waiting only for that bucket's exchange).
  virtual absl::Status OnBucketNeeded(int /*bucket*/) { return absl::OkStatus(); }
  // Finishes every deferred combine: the parameters are x_i. Called before anything outside
  // the step reads them (evaluation, a checkpoint, the end of training).
  virtual absl::Status Flush() { return absl::OkStatus(); }
  // After the last step, before the final evaluation: an asynchronous algorithm drains its
  // peers and publishes its final parameters here (errors name the peer).
  virtual absl::Status Finish() { return absl::OkStatus(); }

  // What a resumed run needs beyond the parameters, momentum and running statistics to go on
  // along the same trajectory (EASGD's center, LSGD's leader copy and election), as views into
  // the algorithm's storage: checkpoints save them, a resume writes into them after Start().
  virtual std::vector<AlgorithmStateTensor> State() { return {}; }

  const CommStats& stats() const { return stats_; }

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
  Communicator* comm = nullptr;        // not owned
  const Topology* topology = nullptr;  // not owned; unused by centralized algorithms
  WorkerBuffers buffers;
  AlgorithmOptions options;
};

// Names: allreduce, dpsgd, matcha, aldsgd, easgd, lsgd, adpsgd. An unknown name, or a
// topology that does not fit the algorithm (dpsgd needs a static scheme, matcha a MATCHA
// scheme), is an error naming both.
absl::StatusOr<std::unique_ptr<Algorithm>> CreateAlgorithm(const std::string& name,
                                                           const AlgorithmContext& context);
std::vector<std::string> AlgorithmNames();

}  // namespace ald
