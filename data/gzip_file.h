// Reads a whole dataset file into memory, gunzipping it when it is gzip (magic 1f 8b): zlib's
// gzread passes files without that magic through unchanged, so .gz and plain files read alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ald {

// The file's (decompressed) bytes; errors name the file: missing, unreadable, corrupt gzip.
absl::StatusOr<std::vector<uint8_t>> ReadMaybeGzippedFile(const std::string& path);

}  // namespace ald
