#include "comm/inproc_communicator.h"

#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"

namespace ald {
namespace {

struct PostedRecv {
  std::span<std::byte> buffer;
  int source = 0;
  int tag = 0;
  bool done = false;
  absl::Status status;
  std::optional<absl::Time> delivered_at;  // when its message was copied in
};

// Messages from one rank to another with one tag, and receives waiting for them, both FIFO.
struct Mailbox {
  std::deque<std::vector<std::byte>> messages;
  std::deque<PostedRecv*> receives;
};
using MailboxKey = std::tuple<int, int, int>;  // (source, destination, tag)

enum class CollectiveKind { kAllReduce, kBroadcast, kAllGather, kBarrier };

struct Contribution {
  CollectiveKind kind;
  const std::byte* data = nullptr;
  size_t bytes = 0;
  ReduceOp op = ReduceOp::kSum;
  int root = 0;

  std::string Describe() const {
    switch (kind) {
      case CollectiveKind::kAllReduce:
        return absl::StrFormat("all-reduce of %d floats", bytes / sizeof(float));
      case CollectiveKind::kBroadcast:
        return absl::StrFormat("broadcast of %d bytes from rank %d", bytes, root);
      case CollectiveKind::kAllGather:
        return absl::StrFormat("all-gather of %d bytes", bytes);
      case CollectiveKind::kBarrier: return "barrier";
    }
    return "collective";
  }
};

// Copies a message into a receive, or says why it cannot (sizes differ: an error, not a
// truncation).
absl::Status Deliver(std::span<const std::byte> message, std::span<std::byte> buffer,
                     const std::string& receive) {
  if (message.size() != buffer.size()) {
    return SizeMismatch(receive, message.size(), buffer.size());
  }
  if (!message.empty()) std::memcpy(buffer.data(), message.data(), message.size());
  return absl::OkStatus();
}

}  // namespace

class InprocWorld::Shared {
 public:
  Shared(int size, CommOptions options)
      : size_(size), options_(options), dead_reason_(size), joined_(size, false),
        contributions_(size), seen_in_round_(size, false) {}

  int size() const { return size_; }
  const CommOptions& options() const { return options_; }
  absl::Mutex& mu() { return mu_; }

  bool Join(int rank) {
    absl::MutexLock lock(&mu_);
    if (joined_[rank] || IsDeadLocked(rank)) return false;
    joined_[rank] = true;
    return true;
  }

  bool IsDead(int rank) {
    absl::MutexLock lock(&mu_);
    return IsDeadLocked(rank);
  }

  void MarkDead(int rank, const char* reason) {
    absl::MutexLock lock(&mu_);
    if (IsDeadLocked(rank)) return;
    dead_reason_[rank] = reason;
    for (auto& [key, mailbox] : mailboxes_) {
      const auto [source, destination, tag] = key;
      if (source != rank && destination != rank) continue;
      for (PostedRecv* receive : mailbox.receives) {
        receive->status = Unavailable(
            DescribeTransfer("recv from", source, tag, receive->buffer.size()), rank);
        receive->done = true;
      }
      mailbox.receives.clear();
      if (destination == rank) mailbox.messages.clear();  // nobody will read them
    }
  }

  absl::Status Send(int source, int destination, int tag, std::span<const std::byte> data) {
    absl::MutexLock lock(&mu_);
    const std::string send = DescribeTransfer("send to", destination, tag, data.size());
    for (int rank : {source, destination}) {
      if (IsDeadLocked(rank)) return Unavailable(send, rank);
    }
    Mailbox& mailbox = mailboxes_[{source, destination, tag}];
    if (mailbox.receives.empty()) {
      mailbox.messages.emplace_back(data.begin(), data.end());
      return absl::OkStatus();
    }
    PostedRecv* receive = mailbox.receives.front();
    mailbox.receives.pop_front();
    receive->status = Deliver(data, receive->buffer,
                              DescribeTransfer("recv from", source, tag, receive->buffer.size()));
    receive->delivered_at = absl::Now();
    receive->done = true;
    return absl::OkStatus();
  }

  // Completes `receive` from a buffered message, fails it, or queues it (then returns false).
  bool PostRecv(int destination, PostedRecv* receive) {
    absl::MutexLock lock(&mu_);
    const MailboxKey key{receive->source, destination, receive->tag};
    Mailbox& mailbox = mailboxes_[key];
    const std::string description =
        DescribeTransfer("recv from", receive->source, receive->tag, receive->buffer.size());
    if (!mailbox.messages.empty()) {
      receive->status = Deliver(mailbox.messages.front(), receive->buffer, description);
      mailbox.messages.pop_front();
      receive->done = true;
      return true;
    }
    for (int rank : {receive->source, destination}) {
      if (IsDeadLocked(rank)) {
        receive->status = Unavailable(description, rank);
        receive->done = true;
        return true;
      }
    }
    mailbox.receives.push_back(receive);
    return false;
  }

  void CancelRecv(int destination, PostedRecv* receive) {
    absl::MutexLock lock(&mu_);
    if (receive->done) return;
    auto& receives = mailboxes_[{receive->source, destination, receive->tag}].receives;
    std::erase(receives, receive);
  }

  // Meets the other ranks in the current round; the last to arrive combines all contributions.
  absl::Status Collective(int rank, const Contribution& mine, std::span<std::byte> output) {
    mu_.Lock();
    if (const int dead = FirstDeadLocked(); dead >= 0) {
      absl::Status status = Unavailable(mine.Describe(), dead);
      mu_.Unlock();
      return status;
    }
    const int64_t generation = generation_;
    contributions_[rank] = mine;
    seen_in_round_[rank] = true;
    if (++arrived_ == size_) {
      result_status_ = Combine();
      arrived_ = 0;
      for (auto& contribution : contributions_) contribution.reset();
      seen_in_round_.assign(size_, false);
      ++generation_;
    } else {
      auto finished_or_dead = [&] { return generation_ != generation || FirstDeadLocked() >= 0; };
      mu_.AwaitWithTimeout(absl::Condition(&finished_or_dead), options_.timeout);
      if (generation_ == generation) {
        absl::Status status = GiveUp(rank, mine);
        mu_.Unlock();
        return status;
      }
    }
    absl::Status status = result_status_;
    mu_.Unlock();
    // The result stays put until every rank, this one included, has arrived at the next round.
    if (status.ok() && !output.empty()) std::memcpy(output.data(), result_.data(), output.size());
    return status;
  }

 private:
  bool IsDeadLocked(int rank) const { return dead_reason_[rank].has_value(); }
  int FirstDeadLocked() const {
    for (int rank = 0; rank < size_; ++rank) {
      if (IsDeadLocked(rank)) return rank;
    }
    return -1;
  }

  absl::Status Unavailable(const std::string& operation, int rank) const {
    return absl::UnavailableError(absl::StrFormat("%s: rank %d is unavailable (%s)", operation,
                                                  rank, *dead_reason_[rank]));
  }

  // Leaves an unfinished round (a peer died, or the deadline passed) so that it stays
  // consistent for the ranks that remain.
  absl::Status GiveUp(int rank, const Contribution& mine) {
    contributions_[rank].reset();
    --arrived_;
    if (const int dead = FirstDeadLocked(); dead >= 0) return Unavailable(mine.Describe(), dead);
    std::vector<int> missing;
    for (int other = 0; other < size_; ++other) {
      if (!seen_in_round_[other]) missing.push_back(other);
    }
    return absl::DeadlineExceededError(
        absl::StrCat(mine.Describe(), " timed out after ", FormatSeconds(options_.timeout),
                     " waiting for rank(s) ", absl::StrJoin(missing, ", ")));
  }

  absl::Status Combine() {
    const Contribution& first = *contributions_[0];
    for (int rank = 1; rank < size_; ++rank) {
      const Contribution& other = *contributions_[rank];
      if (other.kind != first.kind || other.bytes != first.bytes || other.root != first.root ||
          other.op != first.op) {
        return absl::InvalidArgumentError(absl::StrCat("collectives do not match: rank 0 called ",
                                                       first.Describe(), ", rank ", rank,
                                                       " called ", other.Describe()));
      }
    }
    if (first.kind == CollectiveKind::kAllGather) {
      result_.resize(first.bytes * size_);
      for (int rank = 0; rank < size_; ++rank) {
        if (first.bytes > 0) {
          std::memcpy(result_.data() + rank * first.bytes, contributions_[rank]->data, first.bytes);
        }
      }
      return absl::OkStatus();
    }
    result_.resize(first.bytes);
    if (first.kind == CollectiveKind::kBroadcast) {
      std::memcpy(result_.data(), contributions_[first.root]->data, first.bytes);
    } else if (first.kind == CollectiveKind::kAllReduce) {
      SumInRankOrder(first.op);
    }
    return absl::OkStatus();
  }

  void SumInRankOrder(ReduceOp op) {
    const size_t count = result_.size() / sizeof(float);
    float* sum = reinterpret_cast<float*>(result_.data());
    std::memcpy(sum, contributions_[0]->data, result_.size());
    for (int rank = 1; rank < size_; ++rank) {
      const float* term = reinterpret_cast<const float*>(contributions_[rank]->data);
      for (size_t i = 0; i < count; ++i) sum[i] += term[i];
    }
    if (op == ReduceOp::kAverage) {
      const float n = static_cast<float>(size_);
      for (size_t i = 0; i < count; ++i) sum[i] /= n;
    }
  }

  const int size_;
  const CommOptions options_;
  absl::Mutex mu_;
  std::vector<std::optional<const char*>> dead_reason_;
  std::vector<bool> joined_;
  std::map<MailboxKey, Mailbox> mailboxes_;
  // The collective rendezvous.
  int64_t generation_ = 0;
  int arrived_ = 0;
  std::vector<std::optional<Contribution>> contributions_;
  std::vector<bool> seen_in_round_;  // ranks that came, even if they gave up since
  std::vector<std::byte> result_;
  absl::Status result_status_;
};

namespace {

class InprocRecvState final : public RequestState {
 public:
  InprocRecvState(std::shared_ptr<InprocWorld::Shared> world, int rank, int source, int tag,
                  std::span<std::byte> buffer)
      : world_(std::move(world)), rank_(rank) {
    receive_.buffer = buffer;
    receive_.source = source;
    receive_.tag = tag;
  }
  ~InprocRecvState() override { world_->CancelRecv(rank_, &receive_); }

  // False when the receive is queued, waiting for its message.
  bool Post() { return world_->PostRecv(rank_, &receive_); }
  absl::Status status() const { return receive_.status; }

  std::optional<absl::Status> Poll() override {
    absl::MutexLock lock(&world_->mu());
    if (!receive_.done) return std::nullopt;
    return receive_.status;
  }
  void WaitUntil(absl::Time deadline) override {
    world_->mu().LockWhenWithDeadline(absl::Condition(&receive_.done), deadline);
    world_->mu().Unlock();
  }
  std::string Describe() const override {
    return DescribeTransfer("recv from", receive_.source, receive_.tag, receive_.buffer.size());
  }
  std::optional<absl::Time> CompletionTime() const override {
    absl::MutexLock lock(&world_->mu());
    return receive_.delivered_at;
  }

 private:
  std::shared_ptr<InprocWorld::Shared> world_;
  int rank_;
  PostedRecv receive_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<InprocWorld>> InprocWorld::Create(int size, CommOptions options) {
  if (size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("an inproc world needs at least 1 rank, got ", size));
  }
  return std::shared_ptr<InprocWorld>(new InprocWorld(std::make_shared<Shared>(size, options)));
}

InprocWorld::~InprocWorld() = default;

int InprocWorld::size() const { return shared_->size(); }

absl::StatusOr<std::unique_ptr<InprocCommunicator>> InprocWorld::Join(int rank) {
  if (rank < 0 || rank >= size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("join rank %d: this world has ranks 0..%d", rank, size() - 1));
  }
  if (!shared_->Join(rank)) {
    return absl::AlreadyExistsError(
        absl::StrFormat("join rank %d: it has already joined (or is dead)", rank));
  }
  return std::unique_ptr<InprocCommunicator>(
      new InprocCommunicator(shared_, rank, shared_->options()));
}

void InprocWorld::MarkDead(int rank) { shared_->MarkDead(rank, "marked dead"); }

bool InprocWorld::IsDead(int rank) const { return shared_->IsDead(rank); }

InprocCommunicator::~InprocCommunicator() {
  world_->MarkDead(rank_, "its communicator was destroyed");
}

int InprocCommunicator::size() const { return world_->size(); }

void InprocCommunicator::Abort() { world_->MarkDead(rank_, "aborted"); }

Request InprocCommunicator::IsendBytes(int peer, int tag, std::span<const std::byte> data,
                                       int /*priority*/) {
  return Request::Finished(world_->Send(rank_, peer, tag, data));
}

Request InprocCommunicator::IrecvBytes(int peer, int tag, std::span<std::byte> data) {
  auto state = std::make_unique<InprocRecvState>(world_, rank_, peer, tag, data);
  if (state->Post()) return Request::Finished(state->status());
  return MakeRequest(std::move(state));
}

absl::Status InprocCommunicator::AllReduceFloats(std::span<float> data, ReduceOp op) {
  return world_->Collective(
      rank_,
      {.kind = CollectiveKind::kAllReduce, .data = reinterpret_cast<const std::byte*>(data.data()),
       .bytes = data.size_bytes(), .op = op},
      std::as_writable_bytes(data));
}

absl::Status InprocCommunicator::BroadcastBytes(std::span<std::byte> data, int root) {
  return world_->Collective(
      rank_,
      {.kind = CollectiveKind::kBroadcast, .data = data.data(), .bytes = data.size(), .root = root},
      data);
}

absl::Status InprocCommunicator::AllGatherBytes(std::span<const std::byte> mine,
                                                std::span<std::byte> all) {
  return world_->Collective(
      rank_, {.kind = CollectiveKind::kAllGather, .data = mine.data(), .bytes = mine.size()}, all);
}

absl::Status InprocCommunicator::BarrierAll() {
  return world_->Collective(rank_, {.kind = CollectiveKind::kBarrier}, {});
}

}  // namespace ald
