#!/bin/bash
# //tools:bench's --precision: a bad value, bf16 on the GPU and bf16 where oneDNN has no AVX-512
# exit 2 naming the flag; on AVX-512 without BF16 (ONEDNN_MAX_CPU_ISA=AVX512_CORE) bf16 runs and
# says it is emulated; on a CPU with avx512_bf16 or AMX it says native.
set -uo pipefail
bench="$1"
export OMP_NUM_THREADS=1 GOMP_SPINCOUNT=10000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
tiny=(--model=lenet5 --batch=2 --steps=1 --warmup=0)

# expect RUN_NAME WANT_CODE TEXT -- ARGS...: exit status WANT_CODE and TEXT in stderr.
expect() {
  local name="$1" want="$2" text="$3"; shift 4
  "$bench" "${tiny[@]}" "$@" > "$tmp/out" 2> "$tmp/err"
  local code=$?
  if [[ $code != "$want" ]]; then
    echo "FAIL: $name: exit status $code, want $want: $(cat "$tmp/err")"; failed=1; return
  fi
  if ! grep -qF -- "$text" "$tmp/err"; then
    echo "FAIL: $name: stderr lacks '$text': $(cat "$tmp/err")"; failed=1; return
  fi
  echo "PASS: $name: $(head -1 "$tmp/err")"
}

expect bad_value 2 "--precision: expected fp32 or bf16, got 'fp16'" -- --precision=fp16
# bf16 on the GPU needs no CPU support; without a CUDA build it is the build that is refused.
expect gpu 2 "--device=cuda: built without --config=cuda" -- --precision=bf16 --device=cuda
ONEDNN_MAX_CPU_ISA=AVX2 expect no_avx512 2 "--precision=bf16: oneDNN runs bf16 only on CPUs with AVX-512" \
  -- --precision=bf16
if grep -qw avx512f /proc/cpuinfo; then
  ONEDNN_MAX_CPU_ISA=AVX512_CORE expect emulated 0 "bf16 EMULATED on avx512_core" -- --precision=bf16
  if grep -q '"precision": "bf16"' "$tmp/out"; then echo "PASS: emulated step reported"; else
    echo "FAIL: no bf16 result line: $(cat "$tmp/out")"; failed=1; fi
else
  echo "SKIP: emulated: this CPU has no AVX-512"
fi
if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then
  expect native 0 "bf16 native on" -- --precision=bf16
else
  echo "SKIP: native: this CPU has neither avx512_bf16 nor amx_bf16"
fi
exit "$failed"
