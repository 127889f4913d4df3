#include "comm/communicator.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status.h"

namespace ald {

std::string DescribeTransfer(const char* direction, int peer, int tag, size_t bytes) {
  return absl::StrFormat("%s rank %d (tag %d, %d bytes)", direction, peer, tag, bytes);
}

absl::Status SizeMismatch(const std::string& receive, size_t sent, size_t expected) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: the sender sent %d bytes, the receive expects %d", receive, sent, expected));
}

std::string FormatSeconds(absl::Duration duration) {
  return absl::StrFormat("%gs", absl::ToDoubleSeconds(duration));
}

Request Request::Finished(absl::Status status) {
  Request request;
  request.final_status_ = std::move(status);
  request.finished_at_ = absl::Now();
  return request;
}

bool Request::Test() {
  if (final_status_.has_value()) return true;
  final_status_ = state_->Poll();
  return final_status_.has_value();
}

absl::Status Request::status() const {
  if (final_status_.has_value()) return *final_status_;
  return absl::FailedPreconditionError(absl::StrCat(state_->Describe(), " is still in flight"));
}

absl::Status Request::TimedOut(absl::Duration timeout) const {
  return absl::DeadlineExceededError(
      absl::StrCat(state_->Describe(), " timed out after ", FormatSeconds(timeout)));
}

absl::Status Request::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!Test()) {
    if (absl::Now() >= deadline) return TimedOut(timeout);
    state_->WaitUntil(deadline);
  }
  return *final_status_;
}

absl::Status WaitAll(std::span<Request> requests, absl::Duration timeout) {
  // Blocking on one request at a time would hide a failure of a later one until the earlier one
  // times out, so the wait is sliced and every request is tested after each slice.
  constexpr absl::Duration kSlice = absl::Milliseconds(2);
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    Request* first_pending = nullptr;
    for (Request& request : requests) {
      if (!request.Test()) {
        if (first_pending == nullptr) first_pending = &request;
      } else if (!request.status().ok()) {
        return request.status();
      }
    }
    if (first_pending == nullptr) return absl::OkStatus();
    const absl::Time now = absl::Now();
    if (now >= deadline) return first_pending->TimedOut(timeout);
    first_pending->state_->WaitUntil(std::min(deadline, now + kSlice));
  }
}

absl::Status Communicator::CheckPeer(int peer, const char* what) const {
  if (peer >= 0 && peer < size()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s rank %d: no such rank (this communicator has ranks 0..%d)", what, peer, size() - 1));
}

namespace {
absl::Status CheckTag(int tag, const char* what, int peer) {
  if (tag >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrFormat("%s rank %d: tag %d is negative", what, peer, tag));
}
}  // namespace

Request Communicator::Isend(int peer, int tag, std::span<const std::byte> data, int priority) {
  absl::Status valid = CheckPeer(peer, "send to");
  if (valid.ok()) valid = CheckTag(tag, "send to", peer);
  if (!valid.ok()) return Request::Finished(valid);
  return IsendBytes(peer, tag, data, priority);
}

Request Communicator::Irecv(int peer, int tag, std::span<std::byte> data) {
  absl::Status valid = CheckPeer(peer, "recv from");
  if (valid.ok()) valid = CheckTag(tag, "recv from", peer);
  if (!valid.ok()) return Request::Finished(valid);
  return IrecvBytes(peer, tag, data);
}

Request Communicator::Isend(int peer, int tag, std::span<const float> data, int priority) {
  return Isend(peer, tag, std::as_bytes(data), priority);
}

Request Communicator::Irecv(int peer, int tag, std::span<float> data) {
  return Irecv(peer, tag, std::as_writable_bytes(data));
}

absl::Status Communicator::CheckTensor(const Tensor& tensor, const char* what, int peer) const {
  if (!tensor.defined()) {
    return absl::InvalidArgumentError(absl::StrFormat("%s rank %d: undefined tensor", what, peer));
  }
  if (tensor.device().type != memory()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " rank ", peer, ": tensor ", tensor.Describe(),
        " is not in the memory this communicator moves (",
        Device{memory(), 0}.ToString(), ")"));
  }
  return absl::OkStatus();
}

Request Communicator::Isend(int peer, int tag, const Tensor& tensor) {
  absl::Status valid = CheckTensor(tensor, "send to", peer);
  if (!valid.ok()) return Request::Finished(valid);
  return Isend(peer, tag,
               std::span(static_cast<const std::byte*>(tensor.raw_data()), tensor.num_bytes()));
}

Request Communicator::Irecv(int peer, int tag, Tensor& tensor) {
  absl::Status valid = CheckTensor(tensor, "recv from", peer);
  if (!valid.ok()) return Request::Finished(valid);
  return Irecv(peer, tag, std::span(static_cast<std::byte*>(tensor.raw_data()), tensor.num_bytes()));
}

absl::Status Communicator::AllReduce(std::span<float> data, ReduceOp op) {
  return AllReduceFloats(data, op);
}

absl::Status Communicator::Broadcast(std::span<std::byte> data, int root) {
  RETURN_IF_ERROR(CheckPeer(root, "broadcast from"));
  return BroadcastBytes(data, root);
}

absl::Status Communicator::Broadcast(std::span<float> data, int root) {
  return Broadcast(std::as_writable_bytes(data), root);
}

absl::Status Communicator::AllGather(std::span<const std::byte> mine, std::span<std::byte> all) {
  if (all.size() != mine.size() * static_cast<size_t>(size())) {
    return absl::InvalidArgumentError(
        absl::StrFormat("all-gather of %d bytes from each of %d ranks into %d bytes", mine.size(),
                        size(), all.size()));
  }
  return AllGatherBytes(mine, all);
}

absl::Status Communicator::Barrier() { return BarrierAll(); }

}  // namespace ald
