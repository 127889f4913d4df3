// Out-of-band liveness of the ranks of one job: a TCP connection between every pair of ranks and
// a heartbeat thread, so that a survivor names the rank that actually failed.
//
// Why not MPI: Open MPI 4.1 reports a broken TCP connection only to the ranks that talked to the
// dead one, as an error that names no culprit, and a rank waiting on a live neighbour (which is
// itself about to exit because of the dead one) cannot tell the two apart. ULFM's failure
// notification (MPIX_Comm_failure_get_acked) is in Open MPI 5 only. So this is hand-written,
// on plain sockets:
//  - a process that dies closes its sockets (the kernel does it), so every peer sees EOF or a
//    reset at once: that rank died;
//  - a rank that exits because of someone else's failure first sends "leaving because rank X
//    died" on every connection, so peers that then see its EOF blame X, not it; a rank that
//    fails on its own (bad input, a bug) says so, and is blamed with its reason;
//  - a rank that exits normally says goodbye first, so its EOF is no failure;
//  - a rank that sends nothing for `silence_limit` (hung, or its host unreachable) is named
//    then (heartbeats go every silence_limit / 4, at most 100 ms apart: one byte per peer).
// Every rank listens on all interfaces and advertises its IPv4 addresses, non-loopback first;
// a connecting rank tries them in order and both sides check a per-job key and the rank, so an
// address that reaches another host's (or namespace's) loopback is skipped. MPI offers no
// portable way to ask which interface its own transport chose.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ald {

// Where and who one rank is: a plain struct, exchanged as bytes (an MPI all-gather).
struct LivenessEndpoint {
  static constexpr int kMaxAddresses = 8;
  uint64_t job_key = 0;  // rank 0's is the job's; random per process
  char host[64] = {};
  int32_t pid = 0;
  uint16_t port = 0;  // host byte order
  uint8_t address_count = 0;
  uint32_t addresses[kMaxAddresses] = {};  // IPv4, network byte order, non-loopback first
};

// A failed rank and what happened to it, as this rank learned it.
struct PeerFailure {
  int rank = -1;
  std::string what;  // "rank 2 (host h2, pid 4711) died: its liveness connection closed"
};

class LivenessMesh {
 public:
  // Opens this rank's listening socket; endpoint() is what the other ranks need.
  static absl::StatusOr<std::unique_ptr<LivenessMesh>> Listen(int rank, int size,
                                                              absl::Duration silence_limit);
  // Close()s.
  ~LivenessMesh();
  LivenessMesh(const LivenessMesh&) = delete;
  LivenessMesh& operator=(const LivenessMesh&) = delete;

  const LivenessEndpoint& endpoint() const { return endpoints_[rank_]; }

  // Connects to every other rank (`endpoints` indexed by rank, from an all-gather) within
  // `timeout`, then starts the heartbeat thread. Unavailable naming a rank that cannot be reached.
  absl::Status Connect(const std::vector<LivenessEndpoint>& endpoints, absl::Duration timeout);

  // The first failure this rank learned of, if any.
  std::optional<PeerFailure> failure() const;
  // Waits up to `patience` for a failure to be learned (an MPI error usually comes a moment
  // before the dead peer's EOF); the failure, or nullopt.
  std::optional<PeerFailure> AwaitFailure(absl::Duration patience) const;

  // This rank is exiting with `why`: tells every peer who is to blame (the failure it learned
  // of, else itself with `why`), then closes. Idempotent; the first call's reason counts.
  void Leave(const absl::Status& why);

  // This rank is exiting normally: says goodbye, so that its EOF is no failure, and closes.
  // Does nothing after Leave (or a second time).
  void Close();

  // "rank 2 (host h2, pid 4711)".
  std::string Describe(int rank) const;

  // Tests: stop as a killed process does (sockets closed, nothing said).
  void KillForTest();
  // Tests: keep the connections open but send nothing, as a hung process does.
  void FallSilentForTest();

 private:
  enum class Ending { kNone, kGoodbye, kLeave, kKill, kSilent };
  struct Peer {
    int fd = -1;
    std::string inbox;  // bytes received, not yet a whole message
    absl::Time last_heard;
    bool said_goodbye = false;
  };

  LivenessMesh(int rank, int size, absl::Duration silence_limit, int listen_fd);
  absl::Status ConnectTo(int peer, absl::Time deadline);
  absl::Status AcceptFrom(int count, absl::Time deadline);
  void Loop();
  // Reads what `peer` sent; false once its connection is over (closed here).
  bool Receive(int peer);
  void Beat();
  void Record(int rank, std::string what);
  void ClosePeer(int peer);
  // Sends `message` to every open peer, half-closes, and waits (briefly) for their EOFs.
  void SayAndClose(const std::string& message);
  void End(Ending ending, std::string message);

  const int rank_;
  const int size_;
  const absl::Duration silence_limit_;
  const absl::Duration beat_interval_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};  // a pipe: End() wakes the thread
  std::vector<LivenessEndpoint> endpoints_;
  std::vector<Peer> peers_;  // owned by the thread once it runs
  std::thread thread_;

  mutable absl::Mutex mu_;
  std::optional<PeerFailure> failure_;  // guarded by mu_
  Ending ending_ = Ending::kNone;       // guarded by mu_
  std::string ending_message_;          // guarded by mu_
};

}  // namespace ald
