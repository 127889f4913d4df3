// bfloat16: the upper half of an IEEE float; conversion rounds to nearest even.
#pragma once

#include <cstdint>
#include <cstring>

namespace ald {

struct BFloat16 {
  uint16_t bits = 0;

  BFloat16() = default;
  explicit BFloat16(float value) {
    uint32_t word;
    std::memcpy(&word, &value, sizeof(word));
    if ((word & 0x7f800000u) == 0x7f800000u && (word & 0x007fffffu) != 0) {
      bits = static_cast<uint16_t>((word >> 16) | 0x0040u);  // keep NaN a (quiet) NaN
      return;
    }
    const uint32_t rounding_bias = 0x7fffu + ((word >> 16) & 1u);
    bits = static_cast<uint16_t>((word + rounding_bias) >> 16);
  }
  explicit operator float() const {
    const uint32_t word = static_cast<uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &word, sizeof(value));
    return value;
  }
};

}  // namespace ald
