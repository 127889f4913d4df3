// Element types a Tensor can hold.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/bfloat16.h"

namespace ald {

enum class DType : uint8_t { kF32, kBF16, kI32 };

size_t DTypeSize(DType dtype);
const char* DTypeName(DType dtype);  // "f32", "bf16", "i32" (also the safetensors spelling)

// DTypeOf<float>::value == DType::kF32, and so on; used to check typed access.
template <typename T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::kF32; };
template <> struct DTypeOf<BFloat16> { static constexpr DType value = DType::kBF16; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::kI32; };

}  // namespace ald
