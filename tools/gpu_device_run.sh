#!/bin/bash
# Runs, on a machine with a GPU, what tools/gpu_bundle.sh packed: every GPU test (each compares
# the GPU op, plan or communicator with the CPU reference), then the training step of
# //tools:bench --device=cuda against the same model's PyTorch step (tools/pytorch_bench.py
# --device=cuda) on the same GPU, alternating, in fp32 and in bf16, then trains ResNet-20 on
# Fashion-MNIST on the GPU (//tools:train --comm=nccl --workers=1) in fp32 and in bf16 with the
# same seed, and writes a Markdown report.
#
#   tools/gpu_device_run.sh BUNDLE OUT_DIR [--models="resnet20:128 vgg11:128"] [--rounds=2]
#                           [--test_timeout=120] [--tests=GLOB] [--epochs=3] [--seeds="1"]
#
# --models="" skips the step timings; --tests=GLOB runs only the test binaries it matches.
#
# The CUDA libraries come from the machine: the lib folders of Python's nvidia-* packages (what
# PyTorch loads) when there are any, then /usr/local/cuda/lib64. OUT_DIR gets tests.log,
# bench.jsonl, train.log, train.jsonl and report.md. Exit status: 0 when every test passed or
# skipped and the training run succeeded, else 1.
set -uo pipefail
cd "$(dirname "$0")/.."
bundle="${1:?usage: gpu_device_run.sh BUNDLE OUT_DIR}" out="${2:?usage: gpu_device_run.sh BUNDLE OUT_DIR}"
shift 2
models="resnet20:128 vgg11:128" rounds=2 test_timeout=120 epochs=3 seeds=1 test_pattern="*_test"
for arg in "$@"; do
  case "$arg" in
    --models=*) models="${arg#*=}" ;;
    --rounds=*) rounds="${arg#*=}" ;;
    --test_timeout=*) test_timeout="${arg#*=}" ;;
    --epochs=*) epochs="${arg#*=}" ;;
    --seeds=*) seeds="${arg#*=}" ;;
    --tests=*) test_pattern="${arg#*=}" ;;
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
for test in "$root"/bin/$test_pattern; do
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

# The training step, ours and PyTorch's in turn, ROUNDS times per model: fp32 (ours, ours as the
# pipelined NCCL step, PyTorch in true fp32 as ours, PyTorch's default with TF32 convolutions),
# then bf16 (ours, PyTorch's autocast in channels_last).
: >"$out/bench.jsonl"
{
  echo
  echo "## Training step on the GPU (synthetic batch, SGD with momentum; medians of 50 steps, ms)"
  echo
  echo "| model | batch | round | ours fp32 | ours fp32, NCCL step | PyTorch fp32 (no TF32)" \
    "| PyTorch default (TF32 convs) | ours bf16 | PyTorch bf16 autocast channels_last" \
    "| fp32: PyTorch / ours | bf16: PyTorch / ours | ours fp32 / bf16 |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
} >>"$out/report.md"
ours() {
  timeout 120 "$root/bin/bench" --device=cuda --steps=50 --warmup=10 "$@" 2>>"$out/tests.log" |
    tail -1
}
theirs() {
  timeout 120 "$python" tools/pytorch_bench.py --device=cuda --steps=50 --warmup=10 "$@" \
    2>>"$out/tests.log" | tail -1
}
for entry in $models; do  # (none: the table stays empty)
  model="${entry%%:*}" batch="${entry##*:}"
  for ((round = 1; round <= rounds; ++round)); do
    shape=(--model="$model" --batch="$batch")
    lines=("$(ours "${shape[@]}")" "$(ours "${shape[@]}" --gpu_exchange=allreduce)"
      "$(theirs "${shape[@]}" --no_tf32)" "$(theirs "${shape[@]}")"
      "$(ours "${shape[@]}" --precision=bf16)" "$(theirs "${shape[@]}" --bf16 --channels_last)")
    printf '%s\n' "${lines[@]}" >>"$out/bench.jsonl"
    "$python" - "$model" "$batch" "$round" "${lines[@]}" >>"$out/report.md" <<'EOF'
import json, sys
model, batch, round_, *lines = sys.argv[1:]
def median(line):
    try:
        return json.loads(line)["median_step_ms"]
    except (ValueError, KeyError, TypeError):
        return None
ours32, nccl, torch32, torch_tf32, ours16, torch16 = (median(line) for line in lines)
cell = lambda v: "failed" if v is None else f"{v:.3f}"
ratio = lambda a, b: f"{a / b:.2f}x" if a and b else "-"
cells = [cell(v) for v in (ours32, nccl, torch32, torch_tf32, ours16, torch16)]
cells += [ratio(torch32, ours32), ratio(torch16, ours16), ratio(ours32, ours16)]
print(f"| {model} | {batch} | {round_} | " + " | ".join(cells) + " |")
EOF
  done
done
# The embedded default's model on the GPU for EPOCHS epochs, fp32 then bf16 with the same seed
# and flags, for each of SEEDS, evaluated there too; then bf16's paired difference in final test
# accuracy with its 95% interval.
train_status=0
: >"$out/train.jsonl"
: >"$out/train.log"
for seed in $seeds; do
  for precision in fp32 bf16; do
    echo "== seed $seed, $precision" >>"$out/train.log"
    timeout 600 "$root/bin/train" --comm=nccl --workers=1 --model=resnet20 \
      --dataset=fashion_mnist --data_dir="$root/data/fashion-mnist" --epochs="$epochs" \
      --batch=128 --lr=0.1 --precision="$precision" --seed="$seed" \
      --summary_json="$root/summary.json" >>"$out/train.log" 2>&1 || train_status=$?
    "$python" -c 'import json, sys; d = json.load(open(sys.argv[1]));
d.update(seed=int(sys.argv[2]), precision=sys.argv[3]); print(json.dumps(d))' \
      "$root/summary.json" "$seed" "$precision" >>"$out/train.jsonl" 2>/dev/null
    rm -f "$root/summary.json"
  done
done
{
  echo
  echo "## ResNet-20 on Fashion-MNIST on the GPU, fp32 and bf16 ($epochs epochs, batch 128," \
    "lr 0.1, plain SGD; seeds $seeds)"
  echo
  "$python" - "$out/train.jsonl" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
by = {(r["seed"], r["precision"]): r for r in runs}
print("| seed | fp32 test accuracy | bf16 test accuracy | bf16 - fp32 (points) | fp32 img/s |"
      " bf16 img/s |")
print("| --- | --- | --- | --- | --- | --- |")
diffs = []
for seed in sorted({r["seed"] for r in runs}):
    a, b = by.get((seed, "fp32")), by.get((seed, "bf16"))
    if not a or not b:
        print(f"| {seed} | {'failed' if not a else ''} | {'failed' if not b else ''} | | | |")
        continue
    d = 100 * (b["test_accuracy"] - a["test_accuracy"])
    diffs.append(d)
    print(f"| {seed} | {100 * a['test_accuracy']:.2f}% | {100 * b['test_accuracy']:.2f}% |"
          f" {d:+.2f} | {a['images_per_second']} | {b['images_per_second']} |")
if len(diffs) >= 2:
    # Student t quantiles (two-sided 95%) for n - 1 = 1..9 degrees of freedom.
    t = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262][min(len(diffs), 10) - 2]
    mean, half = statistics.mean(diffs), t * statistics.stdev(diffs) / len(diffs) ** 0.5
    verdict = "within 0.3 points" if -0.3 <= mean - half and mean + half <= 0.3 else (
        "not separable from 0" if mean - half <= 0 <= mean + half else "separable from 0")
    print(f"\nbf16 - fp32: {mean:+.2f} points, 95% interval [{mean - half:+.2f}, "
          f"{mean + half:+.2f}] over {len(diffs)} seeds: {verdict}")
EOF
  echo
  echo "training exit status: $train_status"
} >>"$out/report.md"
cat "$out/report.md"
((failed == 0 && train_status == 0))
