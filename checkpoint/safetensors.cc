#include "checkpoint/safetensors.h"

#include <fcntl.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/atomic_file.h"
#include "core/file_io.h"
#include "core/json.h"
#include "core/status.h"

namespace ald {
namespace {

// Tensor bytes go to and from the file as they are in memory; the format is little-endian.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes little-endian");

constexpr uint64_t kLengthBytes = 8;
// The reference implementation's limit; it keeps a corrupt length from allocating gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr char kMetadataKey[] = "__metadata__";
constexpr DType kAllDTypes[] = {DType::kF32, DType::kBF16, DType::kI32};

// One tensor as the header describes it; offsets are relative to the data section.
struct HeaderEntry {
  std::string name;
  DType dtype = DType::kF32;
  Shape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

void EncodeLength(uint64_t length, unsigned char bytes[kLengthBytes]) {
  for (uint64_t i = 0; i < kLengthBytes; ++i) {
    bytes[i] = static_cast<unsigned char>(length >> (8 * i));
  }
}

uint64_t DecodeLength(const unsigned char bytes[kLengthBytes]) {
  uint64_t length = 0;
  for (uint64_t i = 0; i < kLengthBytes; ++i) length |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  return length;
}

absl::Status CheckWritable(const std::vector<NamedTensor>& tensors) {
  std::set<std::string> names;
  for (const NamedTensor& named : tensors) {
    if (named.name.empty()) return absl::InvalidArgumentError("a tensor has an empty name");
    if (named.name == kMetadataKey) {
      return absl::InvalidArgumentError(absl::StrCat("a tensor may not be named ", kMetadataKey));
    }
    if (!names.insert(named.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("two tensors are named '", named.name, "'"));
    }
    if (!named.tensor.defined()) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", named.name, "' is undefined"));
    }
    if (named.tensor.device().type != DeviceType::kCpu) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", named.name, "' is on ",
                                                     named.tensor.device().ToString(),
                                                     "; copy it to the CPU first"));
    }
  }
  return absl::OkStatus();
}

// The header's JSON, padded with spaces so that the data starts 8-byte aligned.
absl::StatusOr<std::string> MakeHeader(const std::vector<NamedTensor>& tensors,
                                       const std::map<std::string, std::string>& metadata) {
  json::Value header = json::Value::Object();
  if (!metadata.empty()) {
    json::Value entries = json::Value::Object();
    for (const auto& [key, value] : metadata) entries.Add(key, json::Value::String(value));
    header.Add(kMetadataKey, std::move(entries));
  }
  int64_t offset = 0;
  for (const NamedTensor& named : tensors) {
    const int64_t end = offset + static_cast<int64_t>(named.tensor.num_bytes());
    json::Value entry = json::Value::Object();
    entry.Add("dtype", json::Value::String(SafetensorsDTypeName(named.tensor.dtype())));
    entry.Add("shape", json::Value::IntegerArray(named.tensor.shape().dims()));
    entry.Add("data_offsets", json::Value::IntegerArray({offset, end}));
    header.Add(named.name, std::move(entry));
    offset = end;
  }
  std::string text = json::Serialize(header);
  // Never write a file the reader would refuse (a name or a metadata value that is not UTF-8).
  absl::Status readable = json::Parse(text).status();
  if (!readable.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("names and metadata must be valid UTF-8: ", readable.message()));
  }
  text.append((kLengthBytes - text.size() % kLengthBytes) % kLengthBytes, ' ');
  return text;
}

absl::StatusOr<DType> ParseDType(const std::string& spelling) {
  for (DType dtype : kAllDTypes) {
    if (SafetensorsDTypeName(dtype) == spelling) return dtype;
  }
  std::vector<std::string> known;
  for (DType dtype : kAllDTypes) known.push_back(SafetensorsDTypeName(dtype));
  return absl::DataLossError(absl::StrCat("unknown dtype '", spelling, "' (this reader knows ",
                                          absl::StrJoin(known, ", "), ")"));
}

// A JSON array of integers >= 0, or an error naming `what`.
absl::StatusOr<std::vector<int64_t>> NonNegativeIntegers(const json::Value& value,
                                                         const std::string& what) {
  const std::string error = absl::StrCat(what, " must be an array of integers >= 0");
  if (value.kind != json::Value::Kind::kArray) return absl::DataLossError(error);
  std::vector<int64_t> integers;
  for (const json::Value& element : value.array) {
    if (element.kind != json::Value::Kind::kInteger || element.integer < 0) {
      return absl::DataLossError(error);
    }
    integers.push_back(element.integer);
  }
  return integers;
}

absl::StatusOr<HeaderEntry> ParseEntryFields(const std::string& name, const json::Value& value) {
  if (value.kind != json::Value::Kind::kObject) {
    return absl::DataLossError(
        absl::StrCat("is ", json::KindName(value.kind), ", expected an object"));
  }
  const json::Value* fields[3] = {nullptr, nullptr, nullptr};
  constexpr const char* kFieldNames[3] = {"dtype", "shape", "data_offsets"};
  for (const auto& [key, field] : value.object) {
    const auto known = std::find(std::begin(kFieldNames), std::end(kFieldNames), key);
    if (known == std::end(kFieldNames)) {
      return absl::DataLossError(absl::StrCat("unknown field '", key, "'"));
    }
    fields[known - std::begin(kFieldNames)] = &field;
  }
  for (int i = 0; i < 3; ++i) {
    if (fields[i] == nullptr) return absl::DataLossError(absl::StrCat("no '", kFieldNames[i], "'"));
  }
  HeaderEntry entry;
  entry.name = name;
  if (fields[0]->kind != json::Value::Kind::kString) {
    return absl::DataLossError("dtype must be a string");
  }
  ASSIGN_OR_RETURN(entry.dtype, ParseDType(fields[0]->string));
  ASSIGN_OR_RETURN(std::vector<int64_t> dims, NonNegativeIntegers(*fields[1], "shape"));
  entry.shape = Shape(std::move(dims));
  ASSIGN_OR_RETURN(std::vector<int64_t> offsets, NonNegativeIntegers(*fields[2], "data_offsets"));
  if (offsets.size() != 2 || offsets[0] > offsets[1]) {
    return absl::DataLossError("data_offsets must be [begin, end] with begin <= end");
  }
  entry.begin = static_cast<uint64_t>(offsets[0]);
  entry.end = static_cast<uint64_t>(offsets[1]);

  uint64_t bytes = DTypeSize(entry.dtype);
  for (int64_t d : entry.shape.dims()) {
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes)) {
      return absl::DataLossError(
          absl::StrCat("shape ", entry.shape.ToString(), " has too many elements"));
    }
  }
  if (entry.end - entry.begin != bytes) {
    return absl::DataLossError(absl::StrCat("data_offsets [", entry.begin, ", ", entry.end,
                                            ") hold ", entry.end - entry.begin, " bytes, but ",
                                            SafetensorsDTypeName(entry.dtype),
                                            entry.shape.ToString(), " needs ", bytes));
  }
  return entry;
}

absl::Status ParseMetadata(const json::Value& value, std::map<std::string, std::string>& out) {
  if (value.kind != json::Value::Kind::kObject) {
    return absl::DataLossError(absl::StrCat(kMetadataKey, " is ", json::KindName(value.kind),
                                            ", expected an object of strings"));
  }
  for (const auto& [key, entry] : value.object) {
    if (entry.kind != json::Value::Kind::kString) {
      return absl::DataLossError(absl::StrCat(kMetadataKey, " '", key, "' is ",
                                              json::KindName(entry.kind), ", expected a string"));
    }
    out[key] = entry.string;
  }
  return absl::OkStatus();
}

// The tensors must tile the data section exactly, as the reference requires: sorted by offset,
// each starts where the previous ends, the last ends where the file does.
absl::Status CheckLayout(const std::vector<HeaderEntry>& entries, uint64_t data_start,
                         uint64_t file_size) {
  std::vector<const HeaderEntry*> sorted;
  for (const HeaderEntry& entry : entries) sorted.push_back(&entry);
  std::stable_sort(sorted.begin(), sorted.end(), [](const HeaderEntry* a, const HeaderEntry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  const uint64_t data_size = file_size - data_start;
  uint64_t cursor = 0;
  const HeaderEntry* previous = nullptr;
  for (const HeaderEntry* entry : sorted) {
    if (entry->begin < cursor) {
      return absl::DataLossError(absl::StrCat(
          "tensor '", entry->name, "' data_offsets [", entry->begin, ", ", entry->end,
          ") overlap tensor '", previous->name, "' [", previous->begin, ", ", previous->end, ")"));
    }
    if (entry->begin > cursor) {
      return absl::DataLossError(absl::StrCat("data bytes [", cursor, ", ", entry->begin,
                                              ") before tensor '", entry->name,
                                              "' belong to no tensor"));
    }
    if (entry->end > data_size) {
      return absl::DataLossError(absl::StrCat(
          "truncated at byte ", file_size, ": tensor '", entry->name, "' needs bytes [",
          data_start + entry->begin, ", ", data_start + entry->end, ")"));
    }
    cursor = entry->end;
    previous = entry;
  }
  if (cursor != data_size) {
    return absl::DataLossError(absl::StrCat("the file has ", data_size - cursor,
                                            " bytes after the last tensor's end (byte ",
                                            data_start + cursor, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SafetensorsFile> Read(const UniqueFd& in) {
  ASSIGN_OR_RETURN(uint64_t file_size, in.Size());
  if (file_size < kLengthBytes) {
    return absl::DataLossError(absl::StrCat("truncated: the file has ", file_size,
                                            " bytes, fewer than the 8 of the header length"));
  }
  unsigned char length_bytes[kLengthBytes];
  RETURN_IF_ERROR(in.ReadAt(0, length_bytes, kLengthBytes));
  const uint64_t header_size = DecodeLength(length_bytes);
  if (header_size > file_size - kLengthBytes) {
    return absl::DataLossError(absl::StrCat("truncated: header says ", header_size,
                                            " bytes, file has ", file_size - kLengthBytes,
                                            " after the length"));
  }
  if (header_size > kMaxHeaderBytes) {
    return absl::DataLossError(absl::StrCat("header says ", header_size, " bytes, more than the ",
                                            kMaxHeaderBytes, " a header may have"));
  }
  std::string header(header_size, '\0');
  RETURN_IF_ERROR(in.ReadAt(kLengthBytes, header.data(), header.size()));
  ASSIGN_OR_RETURN(json::Value root, json::Parse(header, kLengthBytes));
  if (root.kind != json::Value::Kind::kObject) {
    return absl::DataLossError(
        absl::StrCat("the header is ", json::KindName(root.kind), ", expected an object"));
  }

  SafetensorsFile file;
  std::vector<HeaderEntry> entries;
  for (const auto& [name, value] : root.object) {
    if (name == kMetadataKey) {
      RETURN_IF_ERROR(ParseMetadata(value, file.metadata));
      continue;
    }
    absl::StatusOr<HeaderEntry> entry = ParseEntryFields(name, value);
    if (!entry.ok()) {
      return absl::DataLossError(absl::StrCat("tensor '", name, "': ", entry.status().message()));
    }
    entries.push_back(*std::move(entry));
  }
  const uint64_t data_start = kLengthBytes + header_size;
  RETURN_IF_ERROR(CheckLayout(entries, data_start, file_size));

  for (HeaderEntry& entry : entries) {
    ASSIGN_OR_RETURN(Tensor tensor, Tensor::Create(entry.shape, entry.dtype));
    RETURN_IF_ERROR(in.ReadAt(data_start + entry.begin, tensor.raw_data(), tensor.num_bytes()));
    file.tensors.push_back({std::move(entry.name), std::move(tensor)});
  }
  return file;
}

}  // namespace

const Tensor* SafetensorsFile::Find(const std::string& name) const {
  for (const NamedTensor& named : tensors) {
    if (named.name == name) return &named.tensor;
  }
  return nullptr;
}

std::string SafetensorsDTypeName(DType dtype) { return absl::AsciiStrToUpper(DTypeName(dtype)); }

absl::Status WriteSafetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  const auto refuse = [&](const absl::Status& why) {
    return absl::Status(why.code(), absl::StrCat("cannot write ", path, ": ", why.message()));
  };
  if (absl::Status writable = CheckWritable(tensors); !writable.ok()) return refuse(writable);
  absl::StatusOr<std::string> header = MakeHeader(tensors, metadata);
  if (!header.ok()) return refuse(header.status());
  unsigned char length_bytes[kLengthBytes];
  EncodeLength(header->size(), length_bytes);
  return WriteFileAtomically(path, [&](UniqueFd& out) {
    RETURN_IF_ERROR(out.WriteAll(length_bytes, kLengthBytes));
    RETURN_IF_ERROR(out.WriteAll(header->data(), header->size()));
    for (const NamedTensor& named : tensors) {
      RETURN_IF_ERROR(out.WriteAll(named.tensor.raw_data(), named.tensor.num_bytes()));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<SafetensorsFile> ReadSafetensors(const std::string& path) {
  ASSIGN_OR_RETURN(UniqueFd in, UniqueFd::Open(path, O_RDONLY));
  absl::StatusOr<SafetensorsFile> file = Read(in);
  // Format errors get the path here; I/O errors from file_io name it already.
  if (!file.ok() && file.status().code() == absl::StatusCode::kDataLoss) {
    return absl::DataLossError(absl::StrCat(path, ": ", file.status().message()));
  }
  return file;
}

}  // namespace ald
