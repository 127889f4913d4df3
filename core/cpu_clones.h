// ALD_AVX2_CLONES: compile a hot loop twice, for AVX2 and for the baseline, and pick one when the
// program loads (GCC's target_clones: an ifunc resolver that asks the CPU).
// Not under ThreadSanitizer: the resolver runs while the dynamic loader relocates the program,
// before TSan's runtime has started, and its instrumented entry crashes there. The baseline
// alone runs then (the same arithmetic, in shorter vectors).
#pragma once

#if defined(__SANITIZE_THREAD__)
#define ALD_AVX2_CLONES
#else
#define ALD_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#endif
