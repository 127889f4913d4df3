// Whether this CPU runs oneDNN's bf16 primitives natively (AVX-512 BF16 or AMX), emulated
// (AVX-512 without BF16: oneDNN converts in software, and the step is slower than in f32), or
// not at all (no AVX-512). Read from oneDNN's effective ISA, so ONEDNN_MAX_CPU_ISA caps it as it
// caps the kernels (tests use that to see the other two cases on a native machine).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace ald::cpu {

enum class Bf16Support { kNative, kEmulated, kUnavailable };

struct Bf16Capability {
  Bf16Support support = Bf16Support::kUnavailable;
  std::string isa;  // oneDNN's name of the ISA it dispatches to: "avx512_core_amx", "avx2"
};

Bf16Capability CpuBf16Capability();

// For --precision=bf16 (`flag` names it in the message): a note for the start-up line ("bf16
// native on avx512_core_amx", or that it is emulated and slower), or InvalidArgument naming the
// flag and why where oneDNN cannot run bf16 on this CPU.
absl::StatusOr<std::string> Bf16PrecisionNote(const std::string& flag);

}  // namespace ald::cpu
