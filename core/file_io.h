// POSIX file descriptors with absl::Status errors that name the file and the system's reason;
// checkpoints and traces need fsync and positioned reads, which std streams do not offer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ald {

// "<what> <path>: <strerror(errno)>" with the status code that fits errno.
absl::Status ErrnoError(const std::string& what, const std::string& path);

// Owns a file descriptor; closes it when destroyed (use Close() to see the close error).
class UniqueFd {
 public:
  UniqueFd() = default;
  UniqueFd(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  UniqueFd(UniqueFd&& other) noexcept { *this = std::move(other); }
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  ~UniqueFd();

  static absl::StatusOr<UniqueFd> Open(const std::string& path, int flags, int mode = 0644);

  int get() const { return fd_; }
  const std::string& path() const { return path_; }

  absl::StatusOr<uint64_t> Size() const;
  // Writes all `bytes`, retrying short writes and EINTR.
  absl::Status WriteAll(const void* data, size_t bytes);
  // Reads exactly `bytes` at `offset`; a file that ends sooner is an OutOfRange error.
  absl::Status ReadAt(uint64_t offset, void* data, size_t bytes) const;
  absl::Status Sync();
  absl::Status Close();

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace ald
