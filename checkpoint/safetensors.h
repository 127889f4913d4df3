// The safetensors file format (huggingface/safetensors), written atomically and read strictly:
// an 8-byte little-endian header length N, N bytes of JSON naming each tensor's dtype, shape and
// byte range, padded with spaces to a multiple of 8, then the tensors' bytes, packed in order.
// PyTorch, JAX and the `safetensors` package read these files as they are.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/tensor.h"

namespace ald {

// A tensor with its name in a file. Tensor copies share storage, so holding one here is a view
// of the caller's tensor, not a copy of its data.
struct NamedTensor {
  std::string name;
  Tensor tensor;
};

struct SafetensorsFile {
  std::vector<NamedTensor> tensors;  // in the file's order
  std::map<std::string, std::string> metadata;

  const Tensor* Find(const std::string& name) const;  // null when absent
};

// "F32", "BF16", "I32": the format's spelling of a dtype.
std::string SafetensorsDTypeName(DType dtype);

// Writes `tensors` (CPU, unique non-empty names, not "__metadata__") in the given order, with
// `metadata` as the header's "__metadata__" (omitted when empty, as the reference does). The
// file at `path` is replaced atomically: on any failure it keeps its previous contents.
absl::Status WriteSafetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                              const std::map<std::string, std::string>& metadata);

// Reads a whole file into new CPU tensors. Refuses anything that is not exactly a valid
// safetensors file of the dtypes above: the error names the first offending tensor, the JSON
// byte that is malformed, or the byte where a truncated file ends. Byte positions in errors
// count from the start of the file.
absl::StatusOr<SafetensorsFile> ReadSafetensors(const std::string& path);

}  // namespace ald
