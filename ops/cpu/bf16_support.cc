#include "ops/cpu/bf16_support.h"

#include "absl/strings/str_cat.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace ald::cpu {

Bf16Capability CpuBf16Capability() {
  using dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case cpu_isa::avx512_core_amx: return {Bf16Support::kNative, "avx512_core_amx"};
    case cpu_isa::avx512_core_bf16: return {Bf16Support::kNative, "avx512_core_bf16"};
    case cpu_isa::avx512_core_vnni: return {Bf16Support::kEmulated, "avx512_core_vnni"};
    case cpu_isa::avx512_core: return {Bf16Support::kEmulated, "avx512_core"};
    case cpu_isa::avx2_vnni: return {Bf16Support::kUnavailable, "avx2_vnni"};
    case cpu_isa::avx2: return {Bf16Support::kUnavailable, "avx2"};
    case cpu_isa::avx: return {Bf16Support::kUnavailable, "avx"};
    case cpu_isa::sse41: return {Bf16Support::kUnavailable, "sse41"};
    default: return {Bf16Support::kUnavailable, "an ISA without AVX-512"};
  }
}

absl::StatusOr<std::string> Bf16PrecisionNote(const std::string& flag) {
  const Bf16Capability cpu = CpuBf16Capability();
  switch (cpu.support) {
    case Bf16Support::kNative: return absl::StrCat("bf16 native on ", cpu.isa);
    case Bf16Support::kEmulated:
      return absl::StrCat("bf16 EMULATED on ", cpu.isa,
                          " (this CPU has neither avx512_bf16 nor AMX: oneDNN converts in "
                          "software, expect a slower step than fp32)");
    case Bf16Support::kUnavailable: break;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag, "=bf16: oneDNN runs bf16 only on CPUs with AVX-512 (avx512_core); this one "
      "offers ", cpu.isa, ". Use --", flag, "=fp32"));
}

}  // namespace ald::cpu
