#include "comm/wire_format.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "core/bfloat16.h"

namespace ald {

const char* WireFormatName(WireFormat format) {
  return format == WireFormat::kBf16 ? "bf16" : "fp32";
}

absl::StatusOr<WireFormat> ParseWireFormat(std::string_view text) {
  if (text == "fp32") return WireFormat::kFp32;
  if (text == "bf16") return WireFormat::kBf16;
  return absl::InvalidArgumentError(
      absl::StrCat("wire format \"", std::string(text), "\": expected fp32 or bf16"));
}

size_t WireBytesPerFloat(WireFormat format) {
  return format == WireFormat::kBf16 ? sizeof(uint16_t) : sizeof(float);
}

// Plain loops over core/bfloat16.h rather than a oneDNN reorder: comm/ does not depend on
// oneDNN, and a bucket packs in microseconds against milliseconds on the link.
void PackBf16(std::span<const float> values, std::span<uint16_t> words) {
  for (size_t i = 0; i < values.size(); ++i) words[i] = BFloat16(values[i]).bits;
}

void UnpackBf16(std::span<const uint16_t> words, std::span<float> values) {
  for (size_t i = 0; i < words.size(); ++i) {
    BFloat16 word;
    word.bits = words[i];
    values[i] = static_cast<float>(word);
  }
}

}  // namespace ald
