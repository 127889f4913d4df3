#include "comm/mpi_communicator.h"

#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
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

namespace ald {
namespace {

// How often a waiting request checks whether the processes of its peers still exist.
constexpr absl::Duration kLivenessInterval = absl::Milliseconds(100);
// Sends at least this large wait in their peer's lane: one in flight per peer, the highest
// priority next. Smaller ones (AL-DSGD's loss and degree) go at once, never behind a model.
constexpr size_t kLaneMinBytes = 64 * 1024;

std::string MpiErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return absl::StrCat("MPI error ", code);
  return std::string(text, length);
}

// One MPI operation from start to completion. `done` and `status` are guarded by the runtime's
// mutex; `request` belongs to the progress thread.
struct MpiOperation {
  std::string description;      // "recv from rank 3 (tag 17, 1048576 bytes)"
  std::vector<int> peers;       // ranks without which it can never complete
  size_t expected_bytes = 0;    // receives: checked against what arrived
  bool is_receive = false;
  int lane = -1;  // the peer whose send lane it occupies once started, or -1
  MPI_Request request = MPI_REQUEST_NULL;
  bool done = false;
  absl::Status status;
  // When the progress thread saw MPI finish it; unset when the waiter gave up first.
  std::optional<absl::Time> completed_at;
};

struct PeerProcess {
  char host[64] = {};
  int pid = 0;
};

// The process-wide MPI state: the progress thread and what it knows about the other ranks.
class MpiRuntime {
 public:
  // Starts the thread (which initializes MPI) on first use; every Acquire needs a Release.
  static absl::StatusOr<MpiRuntime*> Acquire(const MpiOptions& options);
  static void Release();
  static absl::Duration ThreadCpuTime();

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
  // A peer failed: MPI_Finalize, which synchronizes with every rank, must not be called.
  void MarkBroken() {
    absl::MutexLock lock(&mu_);
    broken_ = true;
  }
  // Runs `call` on the progress thread and returns its result.
  absl::Status Call(std::function<absl::Status()> call);
  // Unavailable naming the first of `ranks` whose process on this host no longer exists.
  absl::Status CheckAlive(const std::vector<int>& ranks, const std::string& operation) const;
  // Learns the host and process id of every rank (once; a collective with a deadline).
  absl::Status ExchangeProcessIds(absl::Duration timeout);

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
  std::thread thread_;
  // Owned by the progress thread.
  std::vector<std::shared_ptr<MpiOperation>> active_;
  std::vector<MPI_Request> active_requests_;
  std::map<int, SendLane> lanes_;  // by peer
  uint64_t next_sequence_ = 0;
  // Set once by Initialize / ExchangeProcessIds.
  std::optional<absl::Status> init_status_;  // guarded by mu_
  int world_rank_ = 0;
  int world_size_ = 1;
  std::vector<PeerProcess> processes_;
  PeerProcess me_;
};

absl::Mutex runtime_mu(absl::kConstInit);
MpiRuntime* runtime = nullptr;  // guarded by runtime_mu
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
    runtime = nullptr;
    runtime_finalized = true;
  }
  {
    absl::MutexLock lock(&finished->mu_);
    finished->stopping_ = true;
  }
  finished->thread_.join();
  // The runtime stays allocated: operations abandoned after an error may still point into it.
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

absl::Status MpiRuntime::Initialize() {
  // A dead peer's TCP connections are closed; OpenMPI's next write to one raises SIGPIPE, which
  // would kill this survivor (status 141) before the communicator could report the peer (3).
  // Ignored, the write fails with EPIPE and the peer's death is reported as Unavailable.
  ::signal(SIGPIPE, SIG_IGN);
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
  gethostname(me_.host, sizeof(me_.host) - 1);
  me_.pid = static_cast<int>(getpid());
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
      auto has_work = [this] { return !commands_.empty() || stopping_; };
      if (active_.empty()) {
        mu_.Await(absl::Condition(&has_work));
      } else if (!spinning) {
        mu_.AwaitWithTimeout(absl::Condition(&has_work), options_.poll_interval);
      }
      commands.swap(commands_);
      if (stopping_ && commands.empty()) break;
    }
    for (auto& command : commands) command();
    const bool progressed = Progress();
    const absl::Time now = absl::Now();
    if (progressed || !commands.empty()) last_activity = now;
    spinning = now - last_activity < options_.spin_window;
    if (spinning) std::this_thread::yield();
  }
  // Cancelled receives complete at the next test; give them a moment to leave.
  const absl::Time drain_deadline = absl::Now() + absl::Seconds(1);
  while (!active_.empty() && absl::Now() < drain_deadline) {
    if (!Progress()) absl::SleepFor(options_.poll_interval);
  }
  absl::MutexLock lock(&mu_);
  // MPI_Finalize waits for every rank and for what is in flight: after a failure it would hang.
  if (!broken_ && active_.empty()) {
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
        std::erase_if(lane.queued, [&](const QueuedSend& send) { return send.op == op; });
      }
      return;
    }
    for (MPI_Request& request : active_requests_) {
      if (request != MPI_REQUEST_NULL && request == op->request) MPI_Cancel(&request);
    }
  });
}

absl::Status MpiRuntime::Call(std::function<absl::Status()> call) {
  std::optional<absl::Status> result;
  Post([&] {
    absl::Status status = call();
    absl::MutexLock lock(&mu_);
    result = std::move(status);
  });
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::optional<absl::Status>* r) { return r->has_value(); }, &result));
  return *result;
}

absl::Status MpiRuntime::CheckAlive(const std::vector<int>& ranks,
                                    const std::string& operation) const {
  for (int rank : ranks) {
    if (rank >= static_cast<int>(processes_.size())) continue;
    const PeerProcess& peer = processes_[rank];
    if (std::strcmp(peer.host, me_.host) != 0 || peer.pid <= 0) continue;  // another machine
    if (kill(peer.pid, 0) != 0 && errno == ESRCH) {
      return absl::UnavailableError(absl::StrFormat(
          "%s: rank %d is unavailable (its process %d on %s is gone)", operation, rank, peer.pid,
          peer.host));
    }
  }
  return absl::OkStatus();
}

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
    if (!done) runtime_->Abandon(op_);
  }

  std::optional<absl::Status> Poll() override {
    {
      absl::MutexLock lock(&runtime_->mu());
      if (op_->done) return op_->status;
    }
    const absl::Time now = absl::Now();
    if (now < next_liveness_check_) return std::nullopt;
    next_liveness_check_ = now + kLivenessInterval;
    absl::Status alive = runtime_->CheckAlive(op_->peers, op_->description);
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

std::vector<int> AllRanksBut(int rank, int size) {
  std::vector<int> others;
  for (int other = 0; other < size; ++other) {
    if (other != rank) others.push_back(other);
  }
  return others;
}

// Starts a collective over `comm` and waits for it with a deadline.
absl::Status RunCollective(MpiRuntime* runtime, std::string description, int rank, int size,
                           absl::Duration timeout, std::function<int(MPI_Request*)> start) {
  auto op = std::make_shared<MpiOperation>();
  op->description = std::move(description);
  op->peers = AllRanksBut(rank, size);
  runtime->Start(op, std::move(start));
  Request request(std::make_unique<MpiRequestState>(runtime, std::move(op)), timeout);
  return request.Wait();
}

absl::Status MpiRuntime::ExchangeProcessIds(absl::Duration timeout) {
  if (!processes_.empty()) return absl::OkStatus();
  std::vector<PeerProcess> processes(world_size_);
  RETURN_IF_ERROR(RunCollective(
      this, "exchange of process ids", world_rank_, world_size_, timeout, [&](MPI_Request* r) {
        return MPI_Iallgather(&me_, sizeof(PeerProcess), MPI_BYTE, processes.data(),
                              sizeof(PeerProcess), MPI_BYTE, MPI_COMM_WORLD, r);
      }));
  processes_ = std::move(processes);
  return absl::OkStatus();
}

absl::Status CheckCount(size_t bytes, const std::string& operation) {
  if (bytes <= static_cast<size_t>(INT_MAX)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      operation, ": messages over ", INT_MAX, " bytes are not supported by this backend"));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(MpiRuntime* runtime, MPI_Comm comm, CommOptions options)
      : Communicator(options), runtime_(runtime), comm_(comm) {
    rank_ = runtime->world_rank();
    size_ = runtime->world_size();
  }
  ~MpiCommunicator() override { MpiRuntime::Release(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

 protected:
  Request IsendBytes(int peer, int tag, std::span<const std::byte> data, int priority) override {
    auto op = MakeOperation(DescribeTransfer("send to", peer, tag, data.size()), peer, data.size());
    if (absl::Status valid = CheckCount(data.size(), op->description); !valid.ok()) {
      return Request::Finished(valid);
    }
    runtime_->StartSend(
        op,
        [data, peer, tag, comm = comm_](MPI_Request* request) {
          return MPI_Isend(data.data(), static_cast<int>(data.size()), MPI_BYTE, peer, tag, comm,
                           request);
        },
        peer, data.size(), priority);
    return MakeRequest(std::make_unique<MpiRequestState>(runtime_, std::move(op)));
  }

  Request IrecvBytes(int peer, int tag, std::span<std::byte> data) override {
    auto op = MakeOperation(DescribeTransfer("recv from", peer, tag, data.size()), peer, data.size());
    op->is_receive = true;
    if (absl::Status valid = CheckCount(data.size(), op->description); !valid.ok()) {
      return Request::Finished(valid);
    }
    runtime_->Start(op, [data, peer, tag, comm = comm_](MPI_Request* request) {
      return MPI_Irecv(data.data(), static_cast<int>(data.size()), MPI_BYTE, peer, tag, comm,
                       request);
    });
    return MakeRequest(std::make_unique<MpiRequestState>(runtime_, std::move(op)));
  }

  absl::Status AllReduceFloats(std::span<float> data, ReduceOp op) override {
    const std::string description = absl::StrFormat("all-reduce of %d floats", data.size());
    RETURN_IF_ERROR(CheckCount(data.size_bytes(), description));
    if (options().reproducible_sums) {
      RETURN_IF_ERROR(SumInRankOrder(data, description));
    } else {
      RETURN_IF_ERROR(Collective(description, [data, comm = comm_](MPI_Request* request) {
        return MPI_Iallreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()),
                              MPI_FLOAT, MPI_SUM, comm, request);
      }));
    }
    if (op == ReduceOp::kAverage) {
      const float n = static_cast<float>(size_);
      for (float& value : data) value /= n;
    }
    return absl::OkStatus();
  }

  absl::Status BroadcastBytes(std::span<std::byte> data, int root) override {
    const std::string description =
        absl::StrFormat("broadcast of %d bytes from rank %d", data.size(), root);
    RETURN_IF_ERROR(CheckCount(data.size(), description));
    return Collective(description, [data, root, comm = comm_](MPI_Request* request) {
      return MPI_Ibcast(data.data(), static_cast<int>(data.size()), MPI_BYTE, root, comm, request);
    });
  }

  absl::Status BarrierAll() override {
    return Collective("barrier", [comm = comm_](MPI_Request* request) {
      return MPI_Ibarrier(comm, request);
    });
  }

 private:
  std::shared_ptr<MpiOperation> MakeOperation(std::string description, int peer, size_t bytes) {
    auto op = std::make_shared<MpiOperation>();
    op->description = std::move(description);
    op->peers = {peer};
    op->expected_bytes = bytes;
    return op;
  }
  // The sum of every rank's `data`, added in rank order as the in-process communicator does
  // (MPI_Allreduce may associate it differently): all-gather a chunk, add it up, next chunk.
  absl::Status SumInRankOrder(std::span<float> data, const std::string& description) {
    constexpr size_t kChunkFloats = size_t{1} << 18;  // 1 MiB from each rank at a time
    const size_t chunk = std::min(data.size(), kChunkFloats);
    std::vector<float> gathered(chunk * size_);
    for (size_t begin = 0; begin < data.size(); begin += chunk) {
      const size_t count = std::min(chunk, data.size() - begin);
      float* mine = data.data() + begin;
      RETURN_IF_ERROR(Collective(description, [&, mine, count](MPI_Request* request) {
        return MPI_Iallgather(mine, static_cast<int>(count), MPI_FLOAT, gathered.data(),
                              static_cast<int>(count), MPI_FLOAT, comm_, request);
      }));
      for (size_t i = 0; i < count; ++i) mine[i] = gathered[i];
      for (int rank = 1; rank < size_; ++rank) {
        const float* term = gathered.data() + rank * count;
        for (size_t i = 0; i < count; ++i) mine[i] += term[i];
      }
    }
    return absl::OkStatus();
  }

  absl::Status Collective(std::string description, std::function<int(MPI_Request*)> start) {
    return RunCollective(runtime_, std::move(description), rank_, size_, timeout(),
                         std::move(start));
  }

  MpiRuntime* runtime_;
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Communicator>> CreateMpiCommunicator(MpiOptions options) {
  ASSIGN_OR_RETURN(MpiRuntime * mpi, MpiRuntime::Acquire(options));
  // Release the runtime on any failure below; the communicator takes the reference over.
  auto release = [](MpiRuntime*) { MpiRuntime::Release(); };
  std::unique_ptr<MpiRuntime, decltype(release)> reference(mpi, release);
  RETURN_IF_ERROR(mpi->ExchangeProcessIds(options.comm.timeout));
  MPI_Comm comm = MPI_COMM_NULL;
  RETURN_IF_ERROR(RunCollective(mpi, "duplicating MPI_COMM_WORLD", mpi->world_rank(),
                                mpi->world_size(), options.comm.timeout,
                                [&comm](MPI_Request* request) {
                                  return MPI_Comm_idup(MPI_COMM_WORLD, &comm, request);
                                }));
  RETURN_IF_ERROR(mpi->Call([comm] {
    const int code = MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    if (code == MPI_SUCCESS) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("MPI_Comm_set_errhandler: ", MpiErrorText(code)));
  }));
  reference.release();
  return std::unique_ptr<Communicator>(new MpiCommunicator(mpi, comm, options.comm));
}

absl::Duration MpiProgressThreadCpuTime() { return MpiRuntime::ThreadCpuTime(); }

}  // namespace ald
