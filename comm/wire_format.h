// How models travel between workers: fp32 as stored, or bf16 (each value rounded to nearest
// even, core/bfloat16.h; half the bytes). The one pack and unpack every exchange goes through,
// whatever the communicator, so in-process and MPI runs round alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"

namespace ald {

enum class WireFormat { kFp32, kBf16 };

// "fp32" / "bf16", as --wire spells them.
const char* WireFormatName(WireFormat format);
// InvalidArgument naming the text and the choices unless it is "fp32" or "bf16".
absl::StatusOr<WireFormat> ParseWireFormat(std::string_view text);
// Bytes one float takes on the wire: 4 or 2.
size_t WireBytesPerFloat(WireFormat format);

// words[i] = bf16(values[i]).bits (round to nearest even; NaN stays a quiet NaN, ±Inf stays
// ±Inf, a finite value past bf16's largest rounds to ±Inf). The spans have the same size.
void PackBf16(std::span<const float> values, std::span<uint16_t> words);
// values[i] = the float whose upper half is words[i] (exact). The spans have the same size.
void UnpackBf16(std::span<const uint16_t> words, std::span<float> values);

}  // namespace ald
