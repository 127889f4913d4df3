// Replaces a file so that readers, and a machine that crashes mid-write, see either the old
// contents or the new, never a mix: write a temporary beside it, fsync, rename over, fsync the
// directory. A failed write removes the temporary and leaves the old file untouched.
#pragma once

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/file_io.h"

namespace ald {

// The temporary a write of `path` goes through: "<path>.tmp-<pid>". Unique per process, so
// concurrent writers in different processes do not collide (one process writes a path once
// at a time).
std::string TempPathFor(const std::string& path);

// Removes the temporaries in `dir` that a process killed mid-write left behind: "*.tmp-<pid>"
// whose pid is no longer running (a live writer's are kept). Returns how many it removed; a
// missing `dir` has none.
absl::StatusOr<int> RemoveStaleTempFiles(const std::string& dir);

// Creates the temporary, lets `fill` write the contents into it, then publishes it at `path`.
// An error from `fill` aborts the write the same way an I/O error does.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::FunctionRef<absl::Status(UniqueFd& out)> fill);

// The common case: the whole contents at once.
absl::Status WriteStringAtomically(const std::string& path, const std::string& contents);

}  // namespace ald
