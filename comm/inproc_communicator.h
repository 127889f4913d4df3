// In-process backend: N workers as threads of one process exchange messages through a shared
// InprocWorld, with the same matching, timeout and fault semantics as the MPI backend.
//
// Sends are eager: Isend copies the data (into a posted receive, or a mailbox buffer) before it
// returns, so its request is already finished and the caller may reuse the buffer at once.
// Collectives meet in a generation-counted rendezvous; all-reduce sums in rank order 0..N-1, so
// its result is bitwise reproducible and identical on every rank.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "comm/communicator.h"

namespace ald {

class InprocCommunicator;

class InprocWorld {
 public:
  static absl::StatusOr<std::shared_ptr<InprocWorld>> Create(int size, CommOptions options = {});
  ~InprocWorld();

  int size() const;
  // The communicator of `rank`; each rank joins once. It keeps the world alive.
  absl::StatusOr<std::unique_ptr<InprocCommunicator>> Join(int rank);
  // Every pending and future operation that needs `rank` fails promptly with Unavailable naming
  // it (messages it sent before are still delivered). Destroying or aborting a rank's
  // communicator does the same.
  void MarkDead(int rank);
  bool IsDead(int rank) const;

  class Shared;  // the mailboxes and the collective rendezvous (inproc_communicator.cc)

 private:
  explicit InprocWorld(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  std::shared_ptr<Shared> shared_;
};

class InprocCommunicator final : public Communicator {
 public:
  // Marks this rank dead: nothing more will come from it.
  ~InprocCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override;
  // Fails this rank's pending operations and makes its peers see it as dead.
  void Abort();

 protected:
  // Sends complete at once (a copy), so there is no queue for `priority` to order.
  Request IsendBytes(int peer, int tag, std::span<const std::byte> data, int priority) override;
  Request IrecvBytes(int peer, int tag, std::span<std::byte> data) override;
  absl::Status AllReduceFloats(std::span<float> data, ReduceOp op) override;
  absl::Status BroadcastBytes(std::span<std::byte> data, int root) override;
  absl::Status AllGatherBytes(std::span<const std::byte> mine, std::span<std::byte> all) override;
  absl::Status BarrierAll() override;

 private:
  friend class InprocWorld;
  InprocCommunicator(std::shared_ptr<InprocWorld::Shared> world, int rank, CommOptions options)
      : Communicator(options), world_(std::move(world)), rank_(rank) {}

  std::shared_ptr<InprocWorld::Shared> world_;
  int rank_;
};

}  // namespace ald
