#include "tools/trainer/output_paths.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"

namespace ald {
namespace {

absl::Status Refuse(const std::string& flag, const std::string& value, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, "=", value, ": ", why));
}

// Creating a file is the one test that also holds for root (whom access() always lets write)
// and for read-only mounts; every output here is written as a new file renamed into place.
absl::Status ExpectWritableDirectory(const std::string& flag, const std::string& value,
                                     const std::filesystem::path& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    return Refuse(flag, value,
                  absl::StrCat(dir.string(), " is not an existing directory; expected the path ",
                               "of a new or existing file in one"));
  }
  std::string probe = (dir / ".write-probe-XXXXXX").string();
  const int fd = mkstemp(probe.data());
  if (fd < 0) {
    return Refuse(flag, value,
                  absl::StrCat("cannot create a file in ", dir.string(), ": ",
                               std::strerror(errno), "; expected a writable directory"));
  }
  close(fd);
  unlink(probe.c_str());
  return absl::OkStatus();
}

absl::Status ExpectWritableFile(const std::string& flag, const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return ExpectWritableDirectory(flag, path, parent.empty() ? "." : parent);
}

}  // namespace

absl::Status CheckOutputPaths(const TrainConfig& config) {
  absl::Status status;
  status.Update(ExpectWritableFile("metrics", config.metrics));
  status.Update(ExpectWritableFile("summary_json", config.summary_json));
  status.Update(ExpectWritableFile("trace", config.trace));
  std::error_code exists_error;
  // A resume from a directory that is not there is the resume's to report (checkpoint/).
  const bool resume_from_nothing =
      config.resume && !std::filesystem::exists(config.checkpoint_dir, exists_error);
  if (!config.checkpoint_dir.empty() && !resume_from_nothing) {
    std::error_code error;
    std::filesystem::create_directories(config.checkpoint_dir, error);
    if (error) {
      status.Update(Refuse("checkpoint_dir", config.checkpoint_dir,
                           absl::StrCat("cannot create it: ", error.message(),
                                        "; expected a writable directory")));
    } else {
      status.Update(
          ExpectWritableDirectory("checkpoint_dir", config.checkpoint_dir, config.checkpoint_dir));
    }
  }
  return status;
}

}  // namespace ald
