#!/bin/bash
# Every oneDNN primitive a compiled training step runs must be a real kernel, never oneDNN's
# reference implementation (plain loops, 10-1000x slower): for each model, on the Fashion-MNIST
# image (1x28x28, and 1x32x32 as --pad=2 makes it) and the CIFAR one (3x32x32), in fp32 and,
# where the CPU has native bf16, in bf16. The step runs under ONEDNN_VERBOSE=1, which names each
# executed primitive's kernel ("jit:avx512_core", "brgemm:...", "ref:any"). This walks whole
# plans, so it catches what the per-op layout tests cannot: twice a layer met a layout pair with
# no kernel on one ISA (the AVX2 stem's backward-weights; LeNet-5's bf16 6 -> 16 layer between
# NHWC and plain).
set -uo pipefail
bench="$1"
export GOMP_SPINCOUNT=10000
precisions=(fp32)
if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then
  precisions+=(bf16)
else
  echo "bf16 plans not checked: this CPU has no native bf16 (no avx512_bf16 or amx_bf16)," \
       "where --precision=bf16 is emulated or refused"
fi
failures=0
for model in lenet5 resnet20 vgg11; do
  for input in 1x28x28 1x32x32 3x32x32; do
    if [[ $model == vgg11 && $input == 1x28x28 ]]; then
      echo "vgg11 1x28x28 not checked: VGG-11's five pools need 32x32 (--pad=2)"; continue
    fi
    for precision in "${precisions[@]}"; do
      what="$model $input $precision"
      out=$(ONEDNN_VERBOSE=1 "$bench" --model="$model" --input="$input" --precision="$precision" \
              --batch=4 --warmup=1 --steps=1 2>&1)
      status=$?
      if ((status != 0)); then
        echo "FAIL: $what: the bench exited $status: $(tail -3 <<<"$out")"
        failures=$((failures + 1)); continue
      fi
      executed=$(grep -c '^onednn_verbose,exec,cpu,' <<<"$out")
      if ((executed == 0)); then
        echo "FAIL: $what: no primitive was logged (ONEDNN_VERBOSE had no effect?)"
        failures=$((failures + 1)); continue
      fi
      # Fields: onednn_verbose,exec,cpu,PRIMITIVE,KERNEL,PROPAGATION,LAYOUTS,...
      reference=$(grep '^onednn_verbose,exec,cpu,' <<<"$out" | awk -F, '$5 ~ /^ref/' |
                  cut -d, -f4-9 | sort -u)
      if [[ -n $reference ]]; then
        echo "FAIL: $what: reference kernels in the step:"; echo "$reference"
        failures=$((failures + 1))
      else
        echo "PASS: $what: $executed primitives, none on the reference kernel"
      fi
    done
  done
done
((failures == 0)) || { echo "FAIL: $failures plan(s) above"; exit 1; }
