// The MPI backend's process-wide runtime (internal to comm:mpi): the progress thread that owns
// every MPI call, the operations it completes, its per-peer send lanes and its view of the
// other ranks' processes. mpi_communicator.h is the public interface; see it for why one thread
// owns MPI and how faults are detected.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "comm/communicator.h"
#include "comm/liveness_mesh.h"
#include "comm/mpi_options.h"

namespace ald {


namespace mpi_internal {

// How often a waiting request asks the liveness mesh whether a rank of the job has failed.
constexpr absl::Duration kLivenessInterval = absl::Milliseconds(100);
// How long an MPI error waits for the liveness mesh to name its cause: a broken MPI connection
// and the dead rank's liveness EOF arrive a moment apart.
constexpr absl::Duration kAttributionPatience = absl::Seconds(1);
// How long an abandoned operation's owner waits for MPI to let go of its buffer.
constexpr absl::Duration kAbandonPatience = absl::Seconds(1);
// Sends at least this large wait in their peer's lane: one in flight per peer, the highest
// priority next. Smaller ones (AL-DSGD's loss and degree) go at once, never behind a model.
constexpr size_t kLaneMinBytes = 64 * 1024;

inline std::string MpiErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return absl::StrCat("MPI error ", code);
  return std::string(text, length);
}

// One MPI operation from start to completion. `done` and `status` are guarded by the runtime's
// mutex; `request` belongs to the progress thread.
struct MpiOperation {
  std::string description;      // "recv from rank 3 (tag 17, 1048576 bytes)"
  size_t expected_bytes = 0;    // receives: checked against what arrived
  bool is_receive = false;
  int lane = -1;  // the peer whose send lane it occupies once started, or -1
  MPI_Request request = MPI_REQUEST_NULL;
  bool done = false;
  absl::Status status;
  // When the progress thread saw MPI finish it; unset when the waiter gave up first.
  std::optional<absl::Time> completed_at;
};

// The process-wide MPI state: the progress thread and what it knows about the other ranks.
class MpiRuntime {
 public:
  // Starts the thread (which initializes MPI) on first use; every Acquire needs a Release.
  static absl::StatusOr<MpiRuntime*> Acquire(const MpiOptions& options);
  static void Release();
  static absl::Duration ThreadCpuTime();
  // How many ranks of the job run on this host (by host name); 1 before ConnectLiveness.
  static int RanksOnThisHost();
  // This process's job has failed with `why`: the runtime will not finalize MPI, which would
  // wait for ranks that may be gone, and the liveness mesh tells the others who is to blame
  // (the rank it saw fail, else this one with `why`).
  static void MarkJobFailed(const absl::Status& why);

  absl::Mutex& mu() { return mu_; }
  int world_rank() const { return world_rank_; }
  int world_size() const { return world_size_; }

  // Runs `start` on the progress thread; it returns an MPI error code and fills op->request.
  void Start(std::shared_ptr<MpiOperation> op, std::function<int(MPI_Request*)> start);
  // The same for a send of `bytes` to `peer`: a large one waits in the peer's lane (see
  // kLaneMinBytes) until the sends before it, or of higher `priority`, have finished.
  void StartSend(std::shared_ptr<MpiOperation> op, std::function<int(MPI_Request*)> start,
                 int peer, size_t bytes, int priority);
  // The caller no longer waits for `op`: cancel it if it is a receive, drop it if it is a send
  // still waiting in its lane (OpenMPI cannot cancel started sends or collectives; those stay
  // in flight, and MPI is then not finalized).
  void Abandon(std::shared_ptr<MpiOperation> op);
  // The owner of abandoned `op` is about to free its buffer. Unless MPI finishes with it by
  // `deadline`, MPI is stopped for good: the progress thread parks between two MPI calls and
  // makes none after (MPI_Testsome would go on reading a started send's freed buffer in the TCP
  // transport, or writing a late receive into it). Only a failing process abandons.
  void ReleaseAbandoned(const MpiOperation& op, absl::Time deadline);
  // A peer failed: MPI_Finalize, which synchronizes with every rank, must not be called.
  void MarkBroken() {
    absl::MutexLock lock(&mu_);
    broken_ = true;
  }
  bool broken() {
    absl::MutexLock lock(&mu_);
    return broken_;
  }
  // Until when the owner of an abandoned operation waits for MPI to let go of its buffer:
  // kAbandonPatience from now while the job is healthy; once a peer has failed, one shared
  // kAbandonPatience for all of them. A survivor abandons dozens of requests as it unwinds, and
  // a second each in turn ran its exit far past --timeout + 5 s.
  absl::Time AbandonDeadline();
  // Runs `call` on the progress thread and returns its result.
  absl::Status Call(std::function<absl::Status()> call);
  // Unavailable naming the rank that failed, once the liveness mesh knows of one (whatever
  // `operation` waits for: the job cannot go on without it).
  absl::Status CheckJob(const std::string& operation) const;
  // An Unavailable `status` (an MPI error) with the failed rank named, once the mesh knows it
  // (waiting up to kAttributionPatience); other statuses unchanged.
  absl::Status Attribute(absl::Status status) const;
  // Learns every rank's host and process id and connects the liveness mesh (once; `timeout`
  // bounds both, and is the silence after which a rank is called hung).
  absl::Status ConnectLiveness(absl::Duration timeout);

 private:
  explicit MpiRuntime(const MpiOptions& options) : options_(options) {}
  void Loop();
  absl::Status Initialize();
  // Tests every active request once; returns whether any completed.
  bool Progress();
  void Complete(MpiOperation& op, absl::Status status);
  void Post(std::function<void()> command);
  // Calls `start`; false (and `op` failed) when MPI refused it.
  bool Launch(const std::shared_ptr<MpiOperation>& op,
              const std::function<int(MPI_Request*)>& start);
  // Starts the best queued send of `peer`'s lane if the lane is free.
  void PumpLane(int peer);

  // A send waiting for its peer's lane.
  struct QueuedSend {
    std::shared_ptr<MpiOperation> op;
    std::function<int(MPI_Request*)> start;
    int priority = 0;
    uint64_t sequence = 0;  // posting order, among equal priorities
  };
  struct SendLane {
    bool busy = false;
    std::vector<QueuedSend> queued;
  };

  const MpiOptions options_;
  absl::Mutex mu_;
  std::vector<std::function<void()>> commands_;  // guarded by mu_
  bool stopping_ = false;                        // guarded by mu_
  bool broken_ = false;                          // guarded by mu_: a peer failed
  bool park_requested_ = false;                  // guarded by mu_: see ReleaseAbandoned
  absl::Time park_deadline_;                     // guarded by mu_: set with park_requested_
  bool parked_ = false;  // guarded by mu_, written by the progress thread: it calls MPI no more
  absl::Time failed_abandon_deadline_ = absl::InfiniteFuture();  // guarded by mu_
  std::thread thread_;
  // Owned by the progress thread.
  std::vector<std::shared_ptr<MpiOperation>> active_;
  std::vector<MPI_Request> active_requests_;
  std::map<int, SendLane> lanes_;  // by peer
  uint64_t next_sequence_ = 0;
  // Set once by Initialize / ConnectLiveness.
  std::optional<absl::Status> init_status_;  // guarded by mu_
  int world_rank_ = 0;
  int world_size_ = 1;
  std::vector<LivenessEndpoint> processes_;
  std::unique_ptr<LivenessMesh> liveness_;  // kept until exit: requests may still ask it
};


// A request whose operation the progress thread completes.
class MpiRequestState final : public RequestState {
 public:
  MpiRequestState(MpiRuntime* runtime, std::shared_ptr<MpiOperation> op)
      : runtime_(runtime), op_(std::move(op)) {}
  ~MpiRequestState() override {
    bool done;
    {
      absl::MutexLock lock(&runtime_->mu());
      done = op_->done;
    }
    if (done) return;
    runtime_->Abandon(op_);
    // The caller frees the buffer next, and MPI may still write into it (a receive whose data
    // is arriving) or read it (a started send) until the operation completes: wait for that,
    // bounded, since a progress thread stuck in MPI after a failure moves no data anyway, then
    // stop MPI so that it cannot touch the freed buffer.
    runtime_->ReleaseAbandoned(*op_, runtime_->AbandonDeadline());
  }

  std::optional<absl::Status> Poll() override {
    std::optional<absl::Status> failed;
    {
      absl::MutexLock lock(&runtime_->mu());
      if (op_->done && !absl::IsUnavailable(op_->status)) return op_->status;
      if (op_->done) failed = op_->status;
    }
    if (failed.has_value()) return runtime_->Attribute(*failed);
    const absl::Time now = absl::Now();
    if (now < next_liveness_check_) return std::nullopt;
    next_liveness_check_ = now + kLivenessInterval;
    absl::Status alive = runtime_->CheckJob(op_->description);
    if (alive.ok()) return std::nullopt;
    runtime_->MarkBroken();
    return alive;
  }

  void WaitUntil(absl::Time deadline) override {
    // Wake for the next liveness check too, so a dead peer is seen before the deadline.
    const absl::Time until = std::min(deadline, std::max(next_liveness_check_, absl::Now()));
    runtime_->mu().LockWhenWithDeadline(absl::Condition(&op_->done), until);
    runtime_->mu().Unlock();
  }

  std::string Describe() const override { return op_->description; }

  std::optional<absl::Time> CompletionTime() const override {
    absl::MutexLock lock(&runtime_->mu());
    return op_->completed_at;
  }

 private:
  MpiRuntime* runtime_;
  std::shared_ptr<MpiOperation> op_;
  absl::Time next_liveness_check_ = absl::Now() + kLivenessInterval;
};

// Starts a collective over `comm` and waits for it with a deadline.
absl::Status RunCollective(MpiRuntime* runtime, std::string description, absl::Duration timeout,
                           std::function<int(MPI_Request*)> start);
// InvalidArgument when `bytes` does not fit MPI's int count.
absl::Status CheckCount(size_t bytes, const std::string& operation);

}  // namespace mpi_internal
}  // namespace ald
