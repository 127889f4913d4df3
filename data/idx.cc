#include "data/idx.h"

#include <span>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status.h"
#include "data/gzip_file.h"
#include "data/label_check.h"

namespace ald {
namespace {

uint32_t BigEndianU32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

// What an IDX file of one kind must hold, for checking and for messages.
struct IdxKind {
  uint32_t magic;
  int rank;
  const char* name;  // "images"
};

// The magic number, then one 4-byte extent per dimension.
size_t HeaderBytes(const IdxKind& kind) { return 4 + 4 * static_cast<size_t>(kind.rank); }

std::string DescribeContents(const IdxKind& kind, const std::vector<int64_t>& dims) {
  if (kind.rank == 3) return absl::StrCat(dims[0], " images of ", dims[1], "x", dims[2]);
  return absl::StrCat(dims[0], " ", kind.name);
}

// Checks the header and that the data after it is exactly what the header promises; returns
// the dimensions.
absl::StatusOr<std::vector<int64_t>> CheckLayout(const std::string& path,
                                                 std::span<const uint8_t> bytes,
                                                 const IdxKind& kind) {
  const size_t header_bytes = HeaderBytes(kind);
  if (bytes.size() < 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": file has ", bytes.size(), " bytes, too short for an IDX ", kind.name, " header"));
  }
  const uint32_t magic = BigEndianU32(bytes.data());
  if (magic != kind.magic) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: magic number 0x%08x, expected 0x%08x (IDX unsigned-byte %s)", path,
                        magic, kind.magic, kind.name));
  }
  if (bytes.size() < header_bytes) {
    return absl::DataLossError(absl::StrCat(path, ": truncated: file has ", bytes.size(),
                                            " bytes, an IDX ", kind.name, " header needs ",
                                            header_bytes));
  }
  std::vector<int64_t> dims;
  int64_t expected = 1;
  bool overflow = false;
  for (int i = 0; i < kind.rank; ++i) {
    dims.push_back(BigEndianU32(bytes.data() + 4 + 4 * i));
    overflow |= __builtin_mul_overflow(expected, dims.back(), &expected);
  }
  const int64_t actual = static_cast<int64_t>(bytes.size() - header_bytes);
  const std::string promise =
      overflow ? DescribeContents(kind, dims)
               : absl::StrCat(DescribeContents(kind, dims), " (", expected, " bytes)");
  if (overflow || actual < expected) {
    return absl::DataLossError(absl::StrCat(path, ": truncated: header promises ", promise,
                                            ", file has ", actual, " bytes of data"));
  }
  if (actual > expected) {
    return absl::DataLossError(absl::StrCat(path, ": header promises ", promise, ", file has ",
                                            actual, " bytes of data (", actual - expected,
                                            " trailing bytes)"));
  }
  return dims;
}

}  // namespace

absl::StatusOr<IdxImages> ReadIdxImages(const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadMaybeGzippedFile(path));
  const IdxKind kind{kIdxImagesMagic, 3, "images"};
  ASSIGN_OR_RETURN(const std::vector<int64_t> dims, CheckLayout(path, bytes, kind));
  IdxImages images{.count = dims[0], .rows = dims[1], .cols = dims[2], .pixels = {}};
  bytes.erase(bytes.begin(), bytes.begin() + HeaderBytes(kind));
  images.pixels = std::move(bytes);
  return images;
}

absl::StatusOr<std::vector<int32_t>> ReadIdxLabels(const std::string& path, int num_classes) {
  ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, ReadMaybeGzippedFile(path));
  const IdxKind kind{kIdxLabelsMagic, 1, "labels"};
  ASSIGN_OR_RETURN(const std::vector<int64_t> dims, CheckLayout(path, bytes, kind));
  std::vector<int32_t> labels(bytes.begin() + HeaderBytes(kind), bytes.end());
  for (int64_t i = 0; i < dims[0]; ++i)
    RETURN_IF_ERROR(CheckLabel(path, i, labels[i], num_classes));
  return labels;
}

}  // namespace ald
