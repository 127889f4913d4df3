// The check every label format shares: a stored label must name one of the dataset's classes,
// since a loss kernel would otherwise index past its logits.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ald {

inline absl::Status CheckLabel(const std::string& path, int64_t index, int label, int num_classes) {
  if (label >= 0 && label < num_classes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(path, ": label ", label, " at index ", index,
                                                 " is outside [0, ", num_classes, ")"));
}

}  // namespace ald
