#include "comm/wire_format.h"

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/bfloat16.h"

namespace ald {

const char* WireFormatName(WireFormat format) {
  switch (format) {
    case WireFormat::kFp32:
      return "fp32";
    case WireFormat::kBf16:
      return "bf16";
    case WireFormat::kBf16Nearest:
      return "bf16-nearest";
  }
  return "unknown";
}

absl::StatusOr<WireFormat> ParseWireFormat(std::string_view text) {
  for (WireFormat format : {WireFormat::kFp32, WireFormat::kBf16, WireFormat::kBf16Nearest}) {
    if (text == WireFormatName(format)) return format;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "wire format \"", std::string(text), "\": expected fp32, bf16 or bf16-nearest"));
}

size_t WireBytesPerFloat(WireFormat format) {
  return IsBf16(format) ? sizeof(uint16_t) : sizeof(float);
}

namespace {

// splitmix64's finaliser: a bijection whose output bits all depend on every input bit.
uint64_t Mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ull;

// Stochastic rounding of one float given 16 uniform bits: adding them below the bf16 mantissa
// carries into it with probability (the discarded fraction), for either sign, since the sign is
// apart from the magnitude. NaN and ±Inf take the nearest-even path, which keeps them.
uint16_t RoundStochastically(float value, uint32_t random16) {
  uint32_t word;
  std::memcpy(&word, &value, sizeof(word));
  if ((word & 0x7f800000u) == 0x7f800000u) return BFloat16(value).bits;
  return static_cast<uint16_t>((word + random16) >> 16);
}

}  // namespace

uint64_t WireRoundingKey(uint64_t seed, int64_t step, int sender, WireStream stream) {
  uint64_t key = Mix(seed + kGolden);
  key = Mix(key ^ (static_cast<uint64_t>(step) + kGolden));
  key = Mix(key ^ (static_cast<uint64_t>(sender) << 8 | static_cast<uint64_t>(stream)));
  return key;
}

void PackForWire(WireFormat format, std::span<const float> values, std::span<uint16_t> words,
                 WireRounding rounding) {
  if (format == WireFormat::kBf16Nearest) return PackBf16(values, words);
  // One 64-bit draw serves four consecutive elements of the whole buffer (index / 4): a few
  // multiplies per four values, against the link's time to carry their 8 bytes.
  uint64_t draw = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const size_t index = rounding.first_index + i;
    if (i == 0 || index % 4 == 0) draw = Mix(rounding.key + (index / 4 + 1) * kGolden);
    const uint32_t random16 = static_cast<uint32_t>(draw >> (16 * (index % 4))) & 0xffffu;
    words[i] = RoundStochastically(values[i], random16);
  }
}

float RoundForWire(WireFormat format, float value, WireRounding rounding) {
  uint16_t word = 0;
  PackForWire(format, std::span(&value, 1), std::span(&word, 1), rounding);
  float back = 0;
  UnpackBf16(std::span(&word, 1), std::span(&back, 1));
  return back;
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
