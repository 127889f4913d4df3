#include "core/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "absl/strings/numbers.h"

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace ald {
namespace {

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Everything up to and including the rename; the caller removes the temporary on failure.
absl::Status WriteAndRename(const std::string& path, const std::string& temp, UniqueFd& out,
                            absl::FunctionRef<absl::Status(UniqueFd& out)> fill) {
  RETURN_IF_ERROR(fill(out));
  // Without the fsync the rename can reach the disk before the data, and a crash would leave
  // a complete-looking but empty or partial checkpoint under the real name.
  RETURN_IF_ERROR(out.Sync());
  RETURN_IF_ERROR(out.Close());
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return ErrnoError(absl::StrCat("cannot rename ", temp, " to"), path);
  }
  return absl::OkStatus();
}

// Whether `name` is "<anything>.tmp-<pid>" of a process that no longer exists. kill(pid, 0)
// fails with ESRCH only then (EPERM: it exists but is another user's).
bool IsStaleTemp(const std::string& name) {
  const size_t mark = name.rfind(".tmp-");
  int64_t pid = 0;
  if (mark == std::string::npos || mark == 0 || !absl::SimpleAtoi(name.substr(mark + 5), &pid) ||
      pid <= 0) {
    return false;
  }
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

absl::StatusOr<int> RemoveStaleTempFiles(const std::string& dir) {
  std::error_code error;
  std::filesystem::directory_iterator entries(dir, error);
  if (error == std::errc::no_such_file_or_directory) return 0;
  if (error) return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", error.message()));
  int removed = 0;
  for (const std::filesystem::directory_entry& entry : entries) {
    if (!entry.is_regular_file(error) || !IsStaleTemp(entry.path().filename().string())) continue;
    if (std::filesystem::remove(entry.path(), error)) ++removed;
    if (error) {
      return absl::InternalError(
          absl::StrCat("cannot remove ", entry.path().string(), ": ", error.message()));
    }
  }
  return removed;
}

std::string TempPathFor(const std::string& path) {
  return absl::StrCat(path, ".tmp-", static_cast<int64_t>(::getpid()));
}

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::FunctionRef<absl::Status(UniqueFd& out)> fill) {
  const std::string temp = TempPathFor(path);
  // O_TRUNC rather than O_EXCL: a temporary with our pid is a leftover of a crashed process
  // that had the same pid, and overwriting it is safe.
  ASSIGN_OR_RETURN(UniqueFd out, UniqueFd::Open(temp, O_WRONLY | O_CREAT | O_TRUNC));
  absl::Status written = WriteAndRename(path, temp, out, fill);
  if (!written.ok()) {
    out = UniqueFd();  // close before unlinking
    ::unlink(temp.c_str());
    return written;
  }
  // The rename is durable only once the directory entry is: fsync the directory.
  const std::string directory = DirectoryOf(path);
  ASSIGN_OR_RETURN(UniqueFd dir, UniqueFd::Open(directory, O_RDONLY | O_DIRECTORY));
  RETURN_IF_ERROR(dir.Sync());
  return dir.Close();
}

absl::Status WriteStringAtomically(const std::string& path, const std::string& contents) {
  return WriteFileAtomically(
      path, [&](UniqueFd& out) { return out.WriteAll(contents.data(), contents.size()); });
}

}  // namespace ald
