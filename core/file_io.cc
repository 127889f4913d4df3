#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace ald {

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  const int error = errno;
  // std::generic_category().message() is the thread-safe strerror.
  const std::string message =
      absl::StrCat(what, " ", path, ": ", std::generic_category().message(error));
  switch (error) {
    case ENOENT: return absl::NotFoundError(message);
    case EACCES:
    case EPERM: return absl::PermissionDeniedError(message);
    case ENOSPC:
    case EDQUOT: return absl::ResourceExhaustedError(message);
    default: return absl::InternalError(message);
  }
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<UniqueFd> UniqueFd::Open(const std::string& path, int flags, int mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoError("cannot open", path);
  return UniqueFd(fd, path);
}

absl::StatusOr<uint64_t> UniqueFd::Size() const {
  struct stat info;
  if (::fstat(fd_, &info) != 0) return ErrnoError("cannot stat", path_);
  if (!S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": not a regular file"));
  }
  return static_cast<uint64_t>(info.st_size);
}

absl::Status UniqueFd::WriteAll(const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd_, p, bytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", path_);
    }
    p += n;
    bytes -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status UniqueFd::ReadAt(uint64_t offset, void* data, size_t bytes) const {
  char* p = static_cast<char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::pread(fd_, p, bytes, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot read", path_);
    }
    if (n == 0) {
      return absl::OutOfRangeError(absl::StrCat(path_, ": the file ends at byte ", offset, ", ",
                                                bytes, " bytes short of what was asked"));
    }
    p += n;
    offset += static_cast<uint64_t>(n);
    bytes -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status UniqueFd::Sync() {
  if (::fsync(fd_) != 0) return ErrnoError("cannot fsync", path_);
  return absl::OkStatus();
}

absl::Status UniqueFd::Close() {
  const int fd = fd_;
  fd_ = -1;
  // Linux releases the descriptor even when close fails, so it is never retried.
  if (fd >= 0 && ::close(fd) != 0) return ErrnoError("cannot close", path_);
  return absl::OkStatus();
}

}  // namespace ald
