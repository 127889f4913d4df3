#include "comm/nccl_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status.h"

namespace ald {
namespace {

// How long a waiter sleeps between polls of a CUDA event or of NCCL's asynchronous state.
constexpr absl::Duration kPollInterval = absl::Microseconds(20);

absl::Status CudaStatus(cudaError_t error, const std::string& what) {
  if (error == cudaSuccess) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", cudaGetErrorString(error)));
}

absl::Status NcclStatus(ncclResult_t result, const std::string& what) {
  if (result == ncclSuccess) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", ncclGetErrorString(result)));
}

// The communicator is non-blocking, so NCCL calls may answer ncclInProgress: wait for the
// outcome until `deadline`.
absl::Status AwaitNccl(ncclComm_t comm, ncclResult_t result, absl::Time deadline,
                       const std::string& what) {
  while (result == ncclInProgress) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(what, " did not finish in time"));
    }
    absl::SleepFor(kPollInterval);
    if (ncclCommGetAsyncError(comm, &result) != ncclSuccess) break;
  }
  return NcclStatus(result, what);
}

// A launch of queued work on the communication stream, complete when its event has fired.
struct NcclLaunch {
  bool launched = false;
  absl::Status launch_status;
  cudaEvent_t event = nullptr;
  ~NcclLaunch() {
    if (event != nullptr) cudaEventDestroy(event);
  }
};

struct QueuedTransfer {
  bool is_send;
  int peer;
  std::byte* data;
  size_t bytes;
};

class NcclCommunicator;

class NcclRequestState final : public RequestState {
 public:
  NcclRequestState(NcclCommunicator* comm, std::shared_ptr<NcclLaunch> launch,
                   std::string description)
      : comm_(comm), launch_(std::move(launch)), description_(std::move(description)) {}
  std::optional<absl::Status> Poll() override;
  void WaitUntil(absl::Time deadline) override {
    while (absl::Now() < deadline && !Poll().has_value()) absl::SleepFor(kPollInterval);
  }
  std::string Describe() const override { return description_; }

 private:
  NcclCommunicator* comm_;
  std::shared_ptr<NcclLaunch> launch_;
  std::string description_;
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(CommOptions options, ncclComm_t comm, cudaStream_t stream, float* scratch,
                   int rank, int size)
      : Communicator(options), comm_(comm), stream_(stream), scratch_(scratch), rank_(rank),
        size_(size) {}
  ~NcclCommunicator() override {
    (void)Flush();
    if (cudaStreamQuery(stream_) == cudaSuccess) {
      ncclCommDestroy(comm_);
    } else {
      ncclCommAbort(comm_);  // work is stuck on a peer: destroying would wait for it forever
    }
    cudaFree(scratch_);
    cudaStreamDestroy(stream_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  DeviceType memory() const override { return DeviceType::kCuda; }

  // Launches the queued sends and receives as one group.
  absl::Status Flush() {
    if (queued_.empty()) return absl::OkStatus();
    std::shared_ptr<NcclLaunch> launch = std::move(pending_launch_);
    std::vector<QueuedTransfer> transfers = std::move(queued_);
    queued_.clear();
    pending_launch_ = std::make_shared<NcclLaunch>();
    launch->launched = true;
    launch->launch_status = LaunchGroup(transfers, *launch);
    return launch->launch_status;
  }

  absl::Status AwaitAsync(ncclResult_t result, const std::string& what) {
    return AwaitNccl(comm_, result, absl::Now() + timeout(), what);
  }
  ncclComm_t comm() const { return comm_; }

 protected:
  // NCCL runs point-to-point calls in stream order: no queue to reorder, so no priority.
  Request IsendBytes(int peer, int tag, std::span<const std::byte> data,
                     int /*priority*/) override {
    return Queue(true, peer, const_cast<std::byte*>(data.data()), data.size(),
                 DescribeTransfer("send to", peer, tag, data.size()));
  }
  Request IrecvBytes(int peer, int tag, std::span<std::byte> data) override {
    return Queue(false, peer, data.data(), data.size(),
                 DescribeTransfer("recv from", peer, tag, data.size()));
  }

  absl::Status AllReduceFloats(std::span<float> data, ReduceOp op) override {
    const std::string what = absl::StrFormat("all-reduce of %d floats", data.size());
    return RunOnStream(what, [&] {
      return ncclAllReduce(data.data(), data.data(), data.size(), ncclFloat,
                           op == ReduceOp::kAverage ? ncclAvg : ncclSum, comm_, stream_);
    });
  }
  absl::Status BroadcastBytes(std::span<std::byte> data, int root) override {
    const std::string what =
        absl::StrFormat("broadcast of %d bytes from rank %d", data.size(), root);
    return RunOnStream(what, [&] {
      return ncclBroadcast(data.data(), data.data(), data.size(), ncclUint8, root, comm_, stream_);
    });
  }
  absl::Status AllGatherBytes(std::span<const std::byte> mine,
                              std::span<std::byte> all) override {
    const std::string what = absl::StrFormat("all-gather of %d bytes", mine.size());
    return RunOnStream(what, [&] {
      return ncclAllGather(mine.data(), all.data(), mine.size(), ncclUint8, comm_, stream_);
    });
  }
  absl::Status BarrierAll() override {
    return RunOnStream("barrier", [&] {
      return ncclAllReduce(scratch_, scratch_, 1, ncclFloat, ncclSum, comm_, stream_);
    });
  }

 private:
  Request Queue(bool is_send, int peer, std::byte* data, size_t bytes, std::string description) {
    queued_.push_back({is_send, peer, data, bytes});
    return MakeRequest(
        std::make_unique<NcclRequestState>(this, pending_launch_, std::move(description)));
  }

  absl::Status LaunchGroup(const std::vector<QueuedTransfer>& transfers, NcclLaunch& launch) {
    RETURN_IF_ERROR(NcclStatus(ncclGroupStart(), "ncclGroupStart"));
    for (const QueuedTransfer& t : transfers) {
      const ncclResult_t result =
          t.is_send ? ncclSend(t.data, t.bytes, ncclUint8, t.peer, comm_, stream_)
                    : ncclRecv(t.data, t.bytes, ncclUint8, t.peer, comm_, stream_);
      if (result != ncclSuccess && result != ncclInProgress) {
        ncclGroupEnd();
        return NcclStatus(result, absl::StrCat(t.is_send ? "ncclSend to rank " : "ncclRecv from rank ", t.peer));
      }
    }
    RETURN_IF_ERROR(AwaitAsync(ncclGroupEnd(), "ncclGroupEnd of the queued sends and receives"));
    return RecordEvent(launch);
  }

  absl::Status RecordEvent(NcclLaunch& launch) {
    RETURN_IF_ERROR(CudaStatus(cudaEventCreateWithFlags(&launch.event, cudaEventDisableTiming),
                               "cudaEventCreate"));
    return CudaStatus(cudaEventRecord(launch.event, stream_), "cudaEventRecord");
  }

  // Launches a collective after the queued transfers, then waits for it with the deadline.
  template <typename Enqueue>
  absl::Status RunOnStream(const std::string& what, Enqueue enqueue) {
    RETURN_IF_ERROR(Flush());
    auto launch = std::make_shared<NcclLaunch>();
    launch->launched = true;
    launch->launch_status = AwaitAsync(enqueue(), what);
    if (launch->launch_status.ok()) launch->launch_status = RecordEvent(*launch);
    Request request(std::make_unique<NcclRequestState>(this, launch, what), timeout());
    return request.Wait();
  }

  ncclComm_t comm_;
  cudaStream_t stream_;
  float* scratch_;  // one device float for the barrier
  int rank_;
  int size_;
  std::vector<QueuedTransfer> queued_;
  std::shared_ptr<NcclLaunch> pending_launch_ = std::make_shared<NcclLaunch>();
};

std::optional<absl::Status> NcclRequestState::Poll() {
  if (!launch_->launched) {
    if (absl::Status flushed = comm_->Flush(); !flushed.ok()) return flushed;
  }
  if (!launch_->launch_status.ok()) {
    return absl::Status(launch_->launch_status.code(),
                        absl::StrCat(description_, ": ", launch_->launch_status.message()));
  }
  const cudaError_t state = cudaEventQuery(launch_->event);
  if (state == cudaSuccess) return absl::OkStatus();
  if (state != cudaErrorNotReady) return CudaStatus(state, description_);
  ncclResult_t async = ncclSuccess;
  ncclCommGetAsyncError(comm_->comm(), &async);
  if (async != ncclSuccess && async != ncclInProgress) {
    return absl::UnavailableError(
        absl::StrCat(description_, ": NCCL reports ", ncclGetErrorString(async)));
  }
  return std::nullopt;
}

}  // namespace

// The NCCL communicator behind the interface, for the stream-ordered calls.
static absl::StatusOr<NcclCommunicator*> AsNccl(Communicator& communicator, const char* what) {
  auto* nccl = dynamic_cast<NcclCommunicator*>(&communicator);
  if (nccl == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": needs a communicator from CreateNcclCommunicator"));
  }
  return nccl;
}

absl::Status EnqueueAllReduceAverage(Communicator& communicator, float* data, size_t count,
                                     cudaStream_t stream) {
  ASSIGN_OR_RETURN(NcclCommunicator * nccl, AsNccl(communicator, "all-reduce on a stream"));
  return nccl->AwaitAsync(ncclAllReduce(data, data, count, ncclFloat, ncclAvg, nccl->comm(), stream),
                          absl::StrFormat("all-reduce of %d floats", count));
}

absl::Status EnqueueExchange(Communicator& communicator, std::span<const NcclTransfer> transfers,
                             cudaStream_t stream) {
  ASSIGN_OR_RETURN(NcclCommunicator * nccl, AsNccl(communicator, "exchange on a stream"));
  if (transfers.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(NcclStatus(ncclGroupStart(), "ncclGroupStart"));
  for (const NcclTransfer& t : transfers) {
    const ncclResult_t result =
        t.send ? ncclSend(t.data, t.count, ncclFloat, t.peer, nccl->comm(), stream)
               : ncclRecv(t.data, t.count, ncclFloat, t.peer, nccl->comm(), stream);
    if (result != ncclSuccess && result != ncclInProgress) {
      ncclGroupEnd();
      return NcclStatus(result, absl::StrCat(t.send ? "ncclSend to rank " : "ncclRecv from rank ",
                                             t.peer));
    }
  }
  return nccl->AwaitAsync(ncclGroupEnd(), "ncclGroupEnd of a bucket's exchange");
}

absl::Status CudaDeviceAvailable() {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    return absl::UnavailableError(
        absl::StrCat("no usable CUDA device: cudaGetDeviceCount: ", cudaGetErrorString(error)));
  }
  if (count == 0) return absl::UnavailableError("no usable CUDA device: none found");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Communicator>> CreateNcclCommunicator(Communicator& bootstrap,
                                                                    NcclOptions options) {
  RETURN_IF_ERROR(CudaDeviceAvailable());
  RETURN_IF_ERROR(CudaStatus(cudaSetDevice(options.device),
                             absl::StrCat("cudaSetDevice(", options.device, ")")));
  ncclUniqueId id;
  std::memset(&id, 0, sizeof(id));
  if (bootstrap.rank() == 0) RETURN_IF_ERROR(NcclStatus(ncclGetUniqueId(&id), "ncclGetUniqueId"));
  RETURN_IF_ERROR(bootstrap.Broadcast(std::as_writable_bytes(std::span(&id, 1)), 0));

  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;  // so that a missing peer makes initialization time out, not hang
  ncclComm_t comm = nullptr;
  const absl::Time deadline = absl::Now() + options.comm.timeout;
  absl::Status init = AwaitNccl(
      comm, ncclCommInitRankConfig(&comm, bootstrap.size(), id, bootstrap.rank(), &config),
      deadline, absl::StrFormat("ncclCommInitRank (rank %d of %d)", bootstrap.rank(),
                                bootstrap.size()));
  if (!init.ok()) {
    if (comm != nullptr) ncclCommAbort(comm);
    return init;
  }
  cudaStream_t stream = nullptr;
  float* scratch = nullptr;
  absl::Status resources =
      CudaStatus(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  if (resources.ok()) {
    resources = CudaStatus(cudaMalloc(&scratch, sizeof(float)), "cudaMalloc of the barrier float");
  }
  if (!resources.ok()) {
    if (stream != nullptr) cudaStreamDestroy(stream);
    ncclCommDestroy(comm);
    return resources;
  }
  return std::unique_ptr<Communicator>(new NcclCommunicator(
      options.comm, comm, stream, scratch, bootstrap.rank(), bootstrap.size()));
}

}  // namespace ald
