#include "comm/mpi_runtime.h"

#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "core/status.h"


namespace ald::mpi_internal {

// Why an operation or call asked of a parked progress thread fails (see ReleaseAbandoned).
constexpr char kParkedMessage[] = "MPI was stopped after an abandoned transfer";

absl::Mutex runtime_mu(absl::kConstInit);
MpiRuntime* runtime = nullptr;  // guarded by runtime_mu
// Released runtimes are never deleted (abandoned operations may still point into one); held
// here, they are not leaks.
MpiRuntime* retired_runtime = nullptr;  // guarded by runtime_mu
int runtime_users = 0;          // guarded by runtime_mu
bool runtime_finalized = false;  // guarded by runtime_mu

absl::StatusOr<MpiRuntime*> MpiRuntime::Acquire(const MpiOptions& options) {
  absl::MutexLock lock(&runtime_mu);
  if (runtime_finalized) {
    return absl::FailedPreconditionError("MPI was already finalized in this process");
  }
  if (runtime == nullptr) {
    auto* created = new MpiRuntime(options);
    created->thread_ = std::thread([created] { created->Loop(); });
    created->mu_.LockWhen(absl::Condition(
        +[](std::optional<absl::Status>* status) { return status->has_value(); },
        &created->init_status_));
    absl::Status init = *created->init_status_;
    created->mu_.Unlock();
    if (!init.ok()) {
      created->thread_.join();  // it returned right after reporting the failure
      runtime_finalized = true;
      return init;
    }
    runtime = created;
  }
  ++runtime_users;
  return runtime;
}

void MpiRuntime::Release() {
  MpiRuntime* finished = nullptr;
  {
    absl::MutexLock lock(&runtime_mu);
    if (--runtime_users > 0) return;
    finished = runtime;
    retired_runtime = runtime;
    runtime = nullptr;
    runtime_finalized = true;
  }
  bool broken;
  {
    absl::MutexLock lock(&finished->mu_);
    finished->stopping_ = true;
    broken = finished->broken_;
  }
  if (finished->liveness_ != nullptr) {
    // A failure the caller did not report (MarkJobFailed) is still this job's end: say so.
    if (broken) {
      finished->liveness_->Leave(absl::UnavailableError("the MPI job failed"));
    } else {
      finished->liveness_->Close();
    }
  }
  // After a failure the thread may be stuck inside MPI for good (a transport that lost its
  // peer); the process is about to exit, and joining could keep it from ever doing so.
  if (broken) {
    finished->thread_.detach();
  } else {
    finished->thread_.join();
  }
  // The runtime stays allocated: operations abandoned after an error may still point into it.
}

void MpiRuntime::MarkJobFailed(const absl::Status& why) {
  absl::MutexLock lock(&runtime_mu);
  if (runtime == nullptr) return;
  runtime->MarkBroken();
  if (runtime->liveness_ != nullptr) runtime->liveness_->Leave(why);
}

absl::Duration MpiRuntime::ThreadCpuTime() {
  absl::MutexLock lock(&runtime_mu);
  if (runtime == nullptr) return absl::ZeroDuration();
  clockid_t clock;
  timespec used{};
  if (pthread_getcpuclockid(runtime->thread_.native_handle(), &clock) != 0 ||
      clock_gettime(clock, &used) != 0) {
    return absl::ZeroDuration();
  }
  return absl::DurationFromTimespec(used);
}

int MpiRuntime::RanksOnThisHost() {
  absl::MutexLock lock(&runtime_mu);
  if (runtime == nullptr || runtime->processes_.empty()) return 1;
  const char* mine = runtime->processes_[runtime->world_rank_].host;
  return static_cast<int>(std::count_if(
      runtime->processes_.begin(), runtime->processes_.end(),
      [mine](const LivenessEndpoint& peer) { return std::strcmp(peer.host, mine) == 0; }));
}

// Open MPI's TCP transport moves a large message as an emulated RDMA put by default. With one
// connection per pair of ranks, two ranks that send each other a large message at once (every
// neighbour exchange: both ends send) then take turns rather than use both directions: on the
// emulated cluster a ring exchange took 2.0x the time its links need (tools/cluster_bench.sh,
// 250 Mbit/s: VGG-11 4.9 s against 2.47 s), and 1.1-1.2x with send semantics only, while a
// one-way ping-pong is unchanged. Set before MPI_Init, which reads it; a value the user set (in
// the environment or with mpirun --mca) wins. Other MPIs ignore the variable.
static void PreferSendSemanticsOverTcp() {
  ::setenv("OMPI_MCA_btl_tcp_flags", "send,inplace,need-ack,need-csum", /*overwrite=*/0);
}

absl::Status MpiRuntime::Initialize() {
  // A dead peer's TCP connections are closed; OpenMPI's next write to one raises SIGPIPE, which
  // would kill this survivor (status 141) before the communicator could report the peer (3).
  // Ignored, the write fails with EPIPE and the peer's death is reported as Unavailable.
  ::signal(SIGPIPE, SIG_IGN);
  PreferSendSemanticsOverTcp();
  int provided = 0;
  int code = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
  if (code != MPI_SUCCESS) {
    // Internal, not Unavailable: no peer failed yet (exit_status.h reads Unavailable so).
    return absl::InternalError(absl::StrCat("MPI_Init_thread failed: ", MpiErrorText(code)));
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this MPI provides thread level ", provided, ", the progress thread needs SERIALIZED"));
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size_);
  return absl::OkStatus();
}

void MpiRuntime::Loop() {
  // TCP moves data only inside MPI calls, so while the workers' compute threads fill both cores
  // a progress thread that waits a scheduler slice to run leaves the link idle. A higher
  // priority lets it run as soon as it wakes; it sleeps between polls, so it takes little.
  // Without the privilege (not root) it keeps the default priority.
  if (options_.progress_nice != 0) {
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), options_.progress_nice);
  }
  absl::Status init = Initialize();
  {
    absl::MutexLock lock(&mu_);
    init_status_ = init;
  }
  if (!init.ok()) return;
  absl::Time last_activity = absl::Now();
  bool spinning = false;
  while (true) {
    std::vector<std::function<void()>> commands;
    {
      absl::MutexLock lock(&mu_);
      auto has_work = [this] {
        return !commands_.empty() || stopping_ || (park_requested_ && !parked_);
      };
      if (active_.empty() || parked_) {
        mu_.Await(absl::Condition(&has_work));
      } else if (!spinning) {
        mu_.AwaitWithTimeout(absl::Condition(&has_work), options_.poll_interval);
      }
      commands.swap(commands_);
      if (park_requested_) parked_ = true;  // between two MPI calls: from here on, none
      if (stopping_ && commands.empty()) break;
    }
    for (auto& command : commands) command();
    const bool progressed = !parked_ && Progress();
    const absl::Time now = absl::Now();
    if (progressed || !commands.empty()) last_activity = now;
    spinning = now - last_activity < options_.spin_window;
    if (spinning) std::this_thread::yield();
  }
  // Cancelled receives complete at the next test; give them a moment to leave.
  const absl::Time drain_deadline = absl::Now() + absl::Seconds(1);
  while (!parked_ && !active_.empty() && absl::Now() < drain_deadline) {
    if (!Progress()) absl::SleepFor(options_.poll_interval);
  }
  absl::MutexLock lock(&mu_);
  // MPI_Finalize waits for every rank and for what is in flight: after a failure it would hang.
  if (!broken_ && !parked_ && active_.empty()) {
    mu_.Unlock();
    MPI_Finalize();
    mu_.Lock();
  }
}

bool MpiRuntime::Progress() {
  if (active_requests_.empty()) return false;
  const int count = static_cast<int>(active_requests_.size());
  std::vector<int> indices(count);
  std::vector<MPI_Status> statuses(count);
  int completed = 0;
  const int code =
      MPI_Testsome(count, active_requests_.data(), &completed, indices.data(), statuses.data());
  if (completed == MPI_UNDEFINED || completed == 0) {
    if (code == MPI_SUCCESS) return false;
    // An error outside any status: fail everything in flight rather than spin on it.
    for (auto& op : active_) Complete(*op, absl::InternalError(absl::StrCat(op->description, ": ", MpiErrorText(code))));
    for (auto& [peer, lane] : lanes_) {
      for (QueuedSend& send : lane.queued) {
        Complete(*send.op, absl::InternalError(absl::StrCat(send.op->description, ": not started: ",
                                                            MpiErrorText(code))));
      }
      lane = SendLane();
    }
    active_.clear();
    active_requests_.clear();
    return true;
  }
  for (int k = 0; k < completed; ++k) {
    MpiOperation& op = *active_[indices[k]];
    const MPI_Status& status = statuses[k];
    const int error = code == MPI_ERR_IN_STATUS ? status.MPI_ERROR : MPI_SUCCESS;
    if (error == MPI_ERR_TRUNCATE) {
      Complete(op, absl::InvalidArgumentError(absl::StrCat(
                       op.description, ": the sender sent more bytes than the receive expects")));
    } else if (error != MPI_SUCCESS && error != MPI_ERR_PENDING) {
      Complete(op, absl::UnavailableError(absl::StrCat(op.description, ": ", MpiErrorText(error))));
    } else if (op.is_receive) {
      int cancelled = 0;
      MPI_Test_cancelled(&status, &cancelled);
      int received = 0;
      MPI_Get_count(&status, MPI_BYTE, &received);
      if (cancelled) {
        Complete(op, absl::CancelledError(absl::StrCat(op.description, " was cancelled")));
      } else if (static_cast<size_t>(received) != op.expected_bytes) {
        Complete(op, SizeMismatch(op.description, received, op.expected_bytes));
      } else {
        Complete(op, absl::OkStatus());
      }
    } else {
      Complete(op, absl::OkStatus());
    }
  }
  // Completed requests are now MPI_REQUEST_NULL; drop them, keeping the rest in order, and
  // free the lanes they held.
  std::vector<int> freed_lanes;
  size_t kept = 0;
  for (size_t i = 0; i < active_.size(); ++i) {
    if (active_requests_[i] == MPI_REQUEST_NULL) {
      if (active_[i]->lane >= 0) freed_lanes.push_back(active_[i]->lane);
      continue;
    }
    active_[kept] = std::move(active_[i]);
    active_requests_[kept] = active_requests_[i];
    ++kept;
  }
  active_.resize(kept);
  active_requests_.resize(kept);
  for (int peer : freed_lanes) {
    lanes_[peer].busy = false;
    PumpLane(peer);
  }
  return true;
}

void MpiRuntime::Complete(MpiOperation& op, absl::Status status) {
  absl::MutexLock lock(&mu_);
  if (absl::IsUnavailable(status)) broken_ = true;
  if (op.done) return;  // the waiter already gave up on it (a dead peer)
  op.status = std::move(status);
  op.done = true;
  op.completed_at = absl::Now();
}

void MpiRuntime::Post(std::function<void()> command) {
  absl::MutexLock lock(&mu_);
  commands_.push_back(std::move(command));
}

bool MpiRuntime::Launch(const std::shared_ptr<MpiOperation>& op,
                        const std::function<int(MPI_Request*)>& start) {
  if (parked_) {
    Complete(*op, absl::UnavailableError(absl::StrCat(op->description, ": ", kParkedMessage)));
    return false;
  }
  const int code = start(&op->request);
  if (code != MPI_SUCCESS) {
    Complete(*op, absl::InternalError(absl::StrCat(op->description, ": ", MpiErrorText(code))));
    return false;
  }
  active_.push_back(op);
  active_requests_.push_back(op->request);
  return true;
}

void MpiRuntime::Start(std::shared_ptr<MpiOperation> op,
                       std::function<int(MPI_Request*)> start) {
  Post([this, op = std::move(op), start = std::move(start)] { Launch(op, start); });
}

void MpiRuntime::StartSend(std::shared_ptr<MpiOperation> op,
                           std::function<int(MPI_Request*)> start, int peer, size_t bytes,
                           int priority) {
  if (bytes < kLaneMinBytes) {
    Start(std::move(op), std::move(start));
    return;
  }
  // Two large sends to one peer share its link and both finish late; one at a time, best
  // first, lets the bucket the next forward needs first arrive first (ByteScheduler's idea).
  Post([this, op = std::move(op), start = std::move(start), peer, priority] {
    lanes_[peer].queued.push_back({op, start, priority, next_sequence_++});
    PumpLane(peer);
  });
}

void MpiRuntime::PumpLane(int peer) {
  SendLane& lane = lanes_[peer];
  while (!lane.busy && !lane.queued.empty()) {
    auto best = lane.queued.begin();
    for (auto it = lane.queued.begin(); it != lane.queued.end(); ++it) {
      if (it->priority > best->priority ||
          (it->priority == best->priority && it->sequence < best->sequence)) {
        best = it;
      }
    }
    QueuedSend send = std::move(*best);
    lane.queued.erase(best);
    send.op->lane = peer;
    lane.busy = Launch(send.op, send.start);
  }
}

void MpiRuntime::Abandon(std::shared_ptr<MpiOperation> op) {
  Post([this, op = std::move(op)] {
    if (!op->is_receive) {
      // A send that never started is simply dropped; a started one cannot be cancelled.
      for (auto& [peer, lane] : lanes_) {
        if (std::erase_if(lane.queued, [&](const QueuedSend& send) { return send.op == op; })) {
          Complete(*op, absl::CancelledError(absl::StrCat(op->description, " was dropped")));
        }
      }
      return;
    }
    for (MPI_Request& request : active_requests_) {
      if (!parked_ && request != MPI_REQUEST_NULL && request == op->request) {
        MPI_Cancel(&request);
      }
    }
  });
}

void MpiRuntime::ReleaseAbandoned(const MpiOperation& op, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(absl::Condition(&op.done), deadline);
  if (op.done) return;
  // MPI_Testsome returns at once, so the thread parks within a poll; one stuck inside MPI
  // moves no data either, so the wait is bounded, and shared: a survivor abandons dozens of
  // requests as it unwinds, and a second each ran its exit past --timeout + 5 s.
  if (!park_requested_) {
    park_requested_ = true;
    park_deadline_ = absl::Now() + kAbandonPatience;
  }
  mu_.AwaitWithDeadline(absl::Condition(&parked_), park_deadline_);
}

absl::Time MpiRuntime::AbandonDeadline() {
  const bool peer_failed = liveness_ != nullptr && liveness_->failure().has_value();
  absl::MutexLock lock(&mu_);
  const absl::Time own = absl::Now() + kAbandonPatience;
  if (!broken_ && !peer_failed) return own;
  if (failed_abandon_deadline_ == absl::InfiniteFuture()) failed_abandon_deadline_ = own;
  return failed_abandon_deadline_;
}

absl::Status MpiRuntime::Call(std::function<absl::Status()> call) {
  std::optional<absl::Status> result;
  Post([&] {
    absl::Status status =
        parked_ ? absl::UnavailableError(kParkedMessage) : call();
    absl::MutexLock lock(&mu_);
    result = std::move(status);
  });
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::optional<absl::Status>* r) { return r->has_value(); }, &result));
  return *result;
}

absl::Status MpiRuntime::CheckJob(const std::string& operation) const {
  if (liveness_ == nullptr) return absl::OkStatus();
  const std::optional<PeerFailure> failure = liveness_->failure();
  if (!failure.has_value()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(failure->what, " (during ", operation, ")"));
}

absl::Status MpiRuntime::Attribute(absl::Status status) const {
  if (!absl::IsUnavailable(status) || liveness_ == nullptr) return status;
  const std::optional<PeerFailure> failure = liveness_->AwaitFailure(kAttributionPatience);
  if (!failure.has_value()) return status;
  return absl::UnavailableError(absl::StrCat(failure->what, " (during ", status.message(), ")"));
}

absl::Status RunCollective(MpiRuntime* runtime, std::string description, absl::Duration timeout,
                           std::function<int(MPI_Request*)> start) {
  auto op = std::make_shared<MpiOperation>();
  op->description = std::move(description);
  runtime->Start(op, std::move(start));
  Request request(std::make_unique<MpiRequestState>(runtime, std::move(op)), timeout);
  return request.Wait();
}

absl::Status MpiRuntime::ConnectLiveness(absl::Duration timeout) {
  if (liveness_ != nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::unique_ptr<LivenessMesh> mesh,
                   LivenessMesh::Listen(world_rank_, world_size_, timeout));
  const LivenessEndpoint me = mesh->endpoint();
  std::vector<LivenessEndpoint> processes(world_size_);
  RETURN_IF_ERROR(RunCollective(this, "exchange of liveness endpoints", timeout,
                                [&](MPI_Request* r) {
                                  return MPI_Iallgather(&me, sizeof(me), MPI_BYTE,
                                                        processes.data(), sizeof(me), MPI_BYTE,
                                                        MPI_COMM_WORLD, r);
                                }));
  RETURN_IF_ERROR(mesh->Connect(processes, timeout));
  absl::MutexLock lock(&runtime_mu);  // RanksOnThisHost reads these
  processes_ = std::move(processes);
  liveness_ = std::move(mesh);
  return absl::OkStatus();
}

absl::Status CheckCount(size_t bytes, const std::string& operation) {
  if (bytes <= static_cast<size_t>(INT_MAX)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      operation, ": messages over ", INT_MAX, " bytes are not supported by this backend"));
}

}  // namespace ald::mpi_internal
