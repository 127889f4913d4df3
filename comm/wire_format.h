// How models travel between workers: fp32 as stored, or bf16 (each value rounded to nearest
// even, core/bfloat16.h; half the bytes). The one pack and unpack every exchange goes through,
// whatever the communicator, so in-process and MPI runs round alike.
//
// The rule (--wire=bf16), with b(v) = v rounded to bf16 and every sum in fp32:
// - D-PSGD, MATCHA (adapt then combine): x_i ← W_ii·y_i + Σ_j W_ij·b(y_j). Adapt with combine:
//   x_i ← W_ii·x_i + Σ_j W_ij·b(x_j) + (y_i − x_i). The own model is never rounded.
// - AL-DSGD, code form: z₀, the boost and the pull take b(y_j) for every neighbour j, the
//   leaders N and τ included (x_i = Σ_m weights_m·(m = i ? y_i : b(y_m))); paper form: the
//   corrective force pulls toward b(x_N), b(x_τ) and the combine mixes b(y_j). The loss and
//   active degree travel as fp32 (two floats; rounding the loss would change who leads).
// - EASGD: x̃ ← (1 − β)·x̃ + β·mean_j b(x_j), every worker's model rounded, its own too: the
//   center is shared, and every worker must hold the same bits of it. The pull α(x_i − x̃)
//   uses the own x_i and the local x̃, both fp32.
// - LSGD: the others pull toward b(x_L); the leader keeps its own x_L.
// - Always fp32: the start from rank 0's model (all workers begin from the same bits), EASGD's
//   start-up mean, and all-reduce SGD's gradients and AD-PSGD's averages, which refuse bf16
//   (comm/algorithms/registry.h, AlgorithmEntry::sends_models).
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
