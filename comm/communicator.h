// Communicator: tagged non-blocking point-to-point messages and blocking collectives between the
// workers of one training job, with deadlines on every wait (backends: inproc, mpi, nccl).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/device.h"
#include "core/tensor.h"

namespace ald {

enum class ReduceOp { kSum, kAverage };

struct CommOptions {
  // How long any wait (a Request's Wait, a collective) may take before it fails with
  // DeadlineExceeded; the training binary exposes it as --timeout.
  absl::Duration timeout = absl::Seconds(60);
  // All-reduce sums in rank order (0, 1, ..., n-1) on every backend, so in-process and MPI runs
  // of the same seed give the same bits. Under MPI that is an all-to-all and an all-gather, a
  // ring's bytes in two collectives where MPI's own all-reduce may take one; turn off to let MPI
  // choose its algorithm and summation order.
  bool reproducible_sums = true;
};

// One operation in flight, as a backend tracks it.
class RequestState {
 public:
  virtual ~RequestState() = default;
  // The final status once the operation has finished, nullopt while it is in flight.
  virtual std::optional<absl::Status> Poll() = 0;
  // Blocks until the operation has finished or `deadline` passed (then Poll() says which).
  virtual void WaitUntil(absl::Time deadline) = 0;
  // What the operation is, for error messages: "recv from rank 3 (tag 17, 1048576 bytes)".
  virtual std::string Describe() const = 0;
  // When the operation finished, where the backend saw it happen (MPI: its progress thread;
  // inproc: the copy into the receive buffer); nullopt while in flight, or where only a Test
  // or wait can tell.
  virtual std::optional<absl::Time> CompletionTime() const { return std::nullopt; }
};

// A handle to a non-blocking send or receive. Destroying a request that is still in flight
// cancels it where the backend can (see each backend); its buffer must stay valid until then.
class Request {
 public:
  Request() = default;  // finished and OK (an operation that had nothing to wait for)
  Request(std::unique_ptr<RequestState> state, absl::Duration default_timeout)
      : state_(std::move(state)), final_status_(std::nullopt), default_timeout_(default_timeout) {}
  // A request that finished at once with `status` (an eager send, an argument error).
  static Request Finished(absl::Status status);

  Request(Request&&) = default;
  Request& operator=(Request&&) = default;

  // True once the operation has finished, successfully or not; status() then says which.
  bool Test();
  // The final status; FailedPrecondition while the request is still in flight.
  absl::Status status() const;
  // When the operation finished, if the backend knows (RequestState::CompletionTime); for a
  // request that finished at once, when it was made.
  std::optional<absl::Time> completion_time() const {
    return state_ != nullptr ? state_->CompletionTime() : finished_at_;
  }
  // Waits up to the communicator's timeout, or `timeout`; DeadlineExceeded names the operation.
  absl::Status Wait() { return Wait(default_timeout_); }
  absl::Status Wait(absl::Duration timeout);

 private:
  friend absl::Status WaitAll(std::span<Request> requests, absl::Duration timeout);
  // "recv from rank 3 (tag 17, 1048576 bytes) timed out after 60s"
  absl::Status TimedOut(absl::Duration timeout) const;

  std::unique_ptr<RequestState> state_;
  std::optional<absl::Status> final_status_ = absl::OkStatus();
  std::optional<absl::Time> finished_at_;  // Finished() requests
  absl::Duration default_timeout_ = absl::Seconds(60);
};

// Waits for every request under one deadline and returns the first failure seen (a dead peer
// is reported as soon as it is known, even while other requests are still in flight).
absl::Status WaitAll(std::span<Request> requests, absl::Duration timeout);

// A backend's point of view: ranks 0..size()-1; messages between a pair of ranks match by tag
// in posting order, as in MPI; a receive whose size differs from the send is an error.
class Communicator {
 public:
  explicit Communicator(CommOptions options) : options_(options) {}
  virtual ~Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Where the buffers passed to this communicator must live (CUDA memory for nccl).
  virtual DeviceType memory() const { return DeviceType::kCpu; }
  absl::Duration timeout() const { return options_.timeout; }
  const CommOptions& options() const { return options_; }

  // `priority` orders the large sends to one peer that wait for the link: the highest starts
  // first, equal ones in posting order (so equal tags still match in order). It lets the
  // pipelined step send first what the next forward needs first. Backends whose sends do not
  // queue (inproc, nccl) ignore it.
  Request Isend(int peer, int tag, std::span<const std::byte> data, int priority = 0);
  Request Irecv(int peer, int tag, std::span<std::byte> data);
  Request Isend(int peer, int tag, std::span<const float> data, int priority = 0);
  Request Irecv(int peer, int tag, std::span<float> data);
  Request Isend(int peer, int tag, const Tensor& tensor);
  Request Irecv(int peer, int tag, Tensor& tensor);

  // Collectives: every rank calls them in the same order; each waits up to timeout().
  absl::Status AllReduce(std::span<float> data, ReduceOp op);
  absl::Status Broadcast(std::span<std::byte> data, int root);
  absl::Status Broadcast(std::span<float> data, int root);
  // Every rank's `mine` (of one size on all ranks), in rank order, into `all`, which is size()
  // times as long (InvalidArgument otherwise).
  absl::Status AllGather(std::span<const std::byte> mine, std::span<std::byte> all);
  absl::Status Barrier();

 protected:
  // Called with a valid peer (0 <= peer < size(), tag >= 0); errors go into the Request.
  virtual Request IsendBytes(int peer, int tag, std::span<const std::byte> data,
                             int priority) = 0;
  virtual Request IrecvBytes(int peer, int tag, std::span<std::byte> data) = 0;
  virtual absl::Status AllReduceFloats(std::span<float> data, ReduceOp op) = 0;
  virtual absl::Status BroadcastBytes(std::span<std::byte> data, int root) = 0;
  // Called with all.size() == size() * mine.size().
  virtual absl::Status AllGatherBytes(std::span<const std::byte> mine,
                                      std::span<std::byte> all) = 0;
  virtual absl::Status BarrierAll() = 0;

  // InvalidArgument naming `what` ("send to", "broadcast from") unless 0 <= peer < size().
  absl::Status CheckPeer(int peer, const char* what) const;
  // A Request that waits with this communicator's timeout.
  Request MakeRequest(std::unique_ptr<RequestState> state) const {
    return Request(std::move(state), options_.timeout);
  }

 private:
  absl::Status CheckTensor(const Tensor& tensor, const char* what, int peer) const;

  CommOptions options_;
};

// "recv from rank 3 (tag 17, 1048576 bytes)"
std::string DescribeTransfer(const char* direction, int peer, int tag, size_t bytes);
// InvalidArgument: "<receive>: the sender sent 16 bytes, the receive expects 8".
absl::Status SizeMismatch(const std::string& receive, size_t sent, size_t expected);
// "60s", "0.25s": durations as the timeout flag spells them.
std::string FormatSeconds(absl::Duration duration);

}  // namespace ald
