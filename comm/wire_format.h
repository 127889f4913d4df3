// How models travel between workers: fp32 as stored, or bf16 at half the bytes. The one pack and
// unpack every exchange goes through, whatever the communicator, so in-process and MPI runs round
// alike.
//
// bf16 rounds stochastically: a value between two bf16 neighbours goes up with probability equal
// to its distance from the lower one, so that E[b(v)] = v. Round to nearest even (bf16-nearest,
// core/bfloat16.h) is a deterministic bias: once models agree and lr·grad is below the bf16
// spacing, every combine pulls them onto the bf16 grid, and the local steps that are smaller
// than that are undone (the 8-worker ResNet-20 pair lost 0.6 points after its lr decays). The
// random bits are a hash of (seed, step, sender, stream, element index): stateless, so a resume
// and an MPI run draw the same bits as the in-process run, and one sender's message is the same
// for all its receivers.
//
// The rule (either bf16 wire), with b(v) = v rounded to bf16 and every sum in fp32:
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

enum class WireFormat { kFp32, kBf16, kBf16Nearest };

// "fp32" / "bf16" / "bf16-nearest", as --wire spells them.
const char* WireFormatName(WireFormat format);
// InvalidArgument naming the text and the choices unless it is one of the names above.
absl::StatusOr<WireFormat> ParseWireFormat(std::string_view text);
// Bytes one float takes on the wire: 4 or 2.
size_t WireBytesPerFloat(WireFormat format);
inline bool IsBf16(WireFormat format) { return format != WireFormat::kFp32; }

// Which messages draw independent rounding bits: each exchange kind and collective its own.
enum class WireStream { kModel = 0, kPreStepModel = 1, kEasgdMean = 2, kLsgdLeader = 3 };

// What one message's stochastic rounding draws from: `key` names the sender's message
// (WireRoundingKey), `first_index` is the position of the message's first value in the sender's
// whole buffer, so that a value's bits do not depend on how the buffer is cut into buckets.
struct WireRounding {
  uint64_t key = 0;
  size_t first_index = 0;
};
uint64_t WireRoundingKey(uint64_t seed, int64_t step, int sender, WireStream stream);

// Packs `values` into bf16 words as `format` rounds them (bf16: stochastically with `rounding`'s
// bits; bf16-nearest: PackBf16). NaN stays a quiet NaN and ±Inf stays ±Inf either way; a finite
// value within one bf16 spacing of bf16's largest may round to ±Inf. `format` must not be fp32.
void PackForWire(WireFormat format, std::span<const float> values, std::span<uint16_t> words,
                 WireRounding rounding);
// What a receiver gets for `value` sent as element `rounding.first_index` of a message keyed
// `rounding.key` (PackForWire of that one element, widened back): for tests that predict bits.
float RoundForWire(WireFormat format, float value, WireRounding rounding);

// words[i] = bf16(values[i]).bits (round to nearest even; NaN stays a quiet NaN, ±Inf stays
// ±Inf, a finite value past bf16's largest rounds to ±Inf). The spans have the same size.
void PackBf16(std::span<const float> values, std::span<uint16_t> words);
// values[i] = the float whose upper half is words[i] (exact). The spans have the same size.
void UnpackBf16(std::span<const uint16_t> words, std::span<float> values);

}  // namespace ald
