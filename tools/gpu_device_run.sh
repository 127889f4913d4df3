#!/bin/bash
# Runs, on a machine with a GPU, what tools/gpu_bundle.sh packed: every GPU test (each compares
# the GPU op, plan or communicator with the CPU reference), then the training step of
# //tools:bench --device=cuda against the same model's PyTorch step (tools/pytorch_bench.py
# --device=cuda) on the same GPU, alternating, then trains ResNet-20 for one epoch of
# Fashion-MNIST on the GPU (//tools:train --comm=nccl --workers=1), and writes a Markdown report.
#
#   tools/gpu_device_run.sh BUNDLE OUT_DIR [--models="resnet20:128 vgg11:128"] [--rounds=2]
#                           [--test_timeout=120]
#
# The CUDA libraries come from the machine: the lib folders of Python's nvidia-* packages (what
# PyTorch loads) when there are any, then /usr/local/cuda/lib64. OUT_DIR gets tests.log,
# bench.jsonl, train.log, train.json and report.md. Exit status: 0 when every test passed or
# skipped and the training run succeeded, else 1.
set -uo pipefail
cd "$(dirname "$0")/.."
bundle="${1:?usage: gpu_device_run.sh BUNDLE OUT_DIR}" out="${2:?usage: gpu_device_run.sh BUNDLE OUT_DIR}"
shift 2
models="resnet20:128 vgg11:128" rounds=2 test_timeout=120
for arg in "$@"; do
  case "$arg" in
    --models=*) models="${arg#*=}" ;;
    --rounds=*) rounds="${arg#*=}" ;;
    --test_timeout=*) test_timeout="${arg#*=}" ;;
    *) echo "gpu_device_run: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
tar -C "$root" -xJf "$bundle" || { echo "gpu_device_run: cannot unpack $bundle" >&2; exit 1; }

python=python3
cuda_dirs=$("$python" - <<'EOF' 2>/dev/null
import glob, importlib.util, os
spec = importlib.util.find_spec("nvidia")
for base in (spec.submodule_search_locations if spec else []):
    for lib in sorted(glob.glob(os.path.join(base, "*", "lib"))):
        print(lib)
EOF
)
lib_path="$root/lib"
for dir in $cuda_dirs /usr/local/cuda/lib64; do
  [[ -d $dir ]] && lib_path+=":$dir"
done
export LD_LIBRARY_PATH="$lib_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

{
  echo "# GPU run of $(head -1 "$root/MANIFEST")"
  echo
  echo '```'
  nvidia-smi -L 2>&1 || echo "nvidia-smi: not available"
  echo "CUDA libraries resolved for the bench:"
  ldd "$root/bin/bench" | grep -E 'libcud|libcublas|libnccl' | sed 's/ (0x.*//; s/^\s*/  /'
  echo '```'
} >"$out/report.md"
if ldd "$root/bin/bench" | grep -q "not found"; then
  echo "gpu_device_run: missing libraries:" >&2
  ldd "$root/bin/bench" | grep "not found" >&2
fi

# The tests: gtest's own summary per binary, and one line of totals.
: >"$out/tests.log"
for test in "$root"/bin/*_test; do
  name="$(basename "$test")"
  # A lent GPU's minutes are few: a test that hangs (a collective waiting for a peer) is stopped
  # and counted as failed instead of holding the machine.
  timeout --kill-after=5 "$test_timeout" "$test" >"$root/$name.log" 2>&1
  status=$?
  if ((status == 124 || status == 137)); then
    echo "gpu_device_run: $name ran past ${test_timeout} s and was stopped" >>"$root/$name.log"
  fi
  cat "$root/$name.log" >>"$out/tests.log"
  n_skipped=$(grep -c '^\[  SKIPPED \] .*(' "$root/$name.log")
  n_passed=$(grep -c '^\[       OK \]' "$root/$name.log")
  n_failed=$(grep -c '^\[  FAILED  \] .*(' "$root/$name.log")
  if ((status != 0 && n_failed == 0)); then n_failed=1; fi  # a crash before gtest's summary
  echo "$name: exit $status, $n_passed passed, $n_skipped skipped, $n_failed failed"
done | tee "$root/test_lines"
# (The loop ran in a pipeline's subshell: the totals come from its lines.)
passed=0 failed=0 skipped=0
while read -r _ _ _ p _ s _ f _; do
  passed=$((passed + p)) skipped=$((skipped + s)) failed=$((failed + f))
done <"$root/test_lines"
{
  echo
  echo "## GPU tests: $passed passed, $skipped skipped, $failed failed"
  echo
  sed 's/^/- /' "$root/test_lines"
} >>"$out/report.md"

# The training step, ours and PyTorch's in turn, ROUNDS times per model.
: >"$out/bench.jsonl"
{
  echo
  echo "## Training step on the GPU (fp32, synthetic batch, SGD with momentum; medians of 50 steps)"
  echo
  echo "| model | batch | round | ours ms | ours, NCCL all-reduce step (1 rank) ms | PyTorch ms" \
    "| PyTorch / ours |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
} >>"$out/report.md"
for entry in $models; do
  model="${entry%%:*}" batch="${entry##*:}"
  for ((round = 1; round <= rounds; ++round)); do
    ours=$(timeout 120 "$root/bin/bench" --device=cuda --model="$model" --batch="$batch" --steps=50 \
      --warmup=10 2>>"$out/tests.log" | tail -1)
    nccl=$(timeout 120 "$root/bin/bench" --device=cuda --gpu_exchange=allreduce --model="$model" \
      --batch="$batch" --steps=50 --warmup=10 2>>"$out/tests.log" | tail -1)
    theirs=$(timeout 120 "$python" tools/pytorch_bench.py --device=cuda --model="$model" --batch="$batch" \
      --steps=50 --warmup=10 2>>"$out/tests.log" | tail -1)
    printf '%s\n' "$ours" "$nccl" "$theirs" >>"$out/bench.jsonl"
    "$python" - "$model" "$batch" "$round" "$ours" "$nccl" "$theirs" >>"$out/report.md" <<'EOF'
import json, sys
model, batch, round_, ours, nccl, theirs = sys.argv[1:]
def median(line):
    try:
        return json.loads(line)["median_step_ms"]
    except (ValueError, KeyError, TypeError):
        return None
a, n, b = median(ours), median(nccl), median(theirs)
cell = lambda v: "failed" if v is None else f"{v:.3f}"
ratio = f"{b / a:.2f}x" if a and b else "-"
print(f"| {model} | {batch} | {round_} | {cell(a)} | {cell(n)} | {cell(b)} | {ratio} |")
EOF
  done
done
# One epoch of the embedded default's model on the GPU, evaluated there too.
timeout 600 "$root/bin/train" --comm=nccl --workers=1 --model=resnet20 --dataset=fashion_mnist \
  --data_dir="$root/data/fashion-mnist" --epochs=1 --batch=128 --lr=0.1 \
  --summary_json="$out/train.json" >"$out/train.log" 2>&1
train_status=$?
{
  echo
  echo "## One epoch of ResNet-20 on Fashion-MNIST on the GPU (batch 128, lr 0.1, plain SGD)"
  echo
  echo '```'
  tail -3 "$out/train.log"
  echo "exit status $train_status"
  echo '```'
} >>"$out/report.md"
cat "$out/report.md"
((failed == 0 && train_status == 0))
