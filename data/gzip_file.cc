#include "data/gzip_file.h"

#include <zlib.h>

#include <cerrno>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/file_io.h"

namespace ald {
namespace {

struct GzFileCloser {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzFilePtr = std::unique_ptr<gzFile_s, GzFileCloser>;

// zlib prefixes its messages with the path; ours already start with it.
std::string ZlibMessage(gzFile file, const std::string& path, int* code) {
  const char* message = gzerror(file, code);
  return std::string(absl::StripPrefix(message, absl::StrCat(path, ": ")));
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> ReadMaybeGzippedFile(const std::string& path) {
  errno = 0;
  GzFilePtr file(gzopen(path.c_str(), "rb"));
  if (file == nullptr) {
    // Not Unavailable: the trainer's exit status reads that code as a peer's failure.
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    if (errno == 0) return absl::ResourceExhaustedError(path + ": zlib is out of memory");
    return ErrnoError("cannot open", path);
  }
  // Chunked reads: the decompressed size is not known up front (gzip stores it modulo 2^32).
  constexpr unsigned kChunkBytes = 1u << 20;
  std::vector<uint8_t> bytes;
  while (true) {
    const size_t old_size = bytes.size();
    bytes.resize(old_size + kChunkBytes);
    const int read = gzread(file.get(), bytes.data() + old_size, kChunkBytes);
    int code = Z_OK;
    if (read < 0) {
      const std::string message = ZlibMessage(file.get(), path, &code);
      return absl::DataLossError(absl::StrCat(path, ": read failed: ", message));
    }
    bytes.resize(old_size + static_cast<size_t>(read));
    if (read == 0) break;
  }
  // A truncated gzip stream ends the reads without failing them; zlib records why.
  int code = Z_OK;
  const std::string message = ZlibMessage(file.get(), path, &code);
  if (code != Z_OK) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt gzip stream: ", message));
  }
  return bytes;
}

}  // namespace ald
