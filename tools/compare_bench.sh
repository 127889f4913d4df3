#!/usr/bin/env bash
# Runs our training-step benchmark (//tools:bench) and its PyTorch peer (tools/pytorch_bench.py,
# NCHW and channels_last) on the same model and batch, alternating ours, PyTorch NCHW, PyTorch
# channels_last for ROUNDS rounds so that drift in the machine's load hits every side alike, and
# prints each side's median img/s, median step time and peak RSS, and the ratio ours/PyTorch.
# With --bf16 each round also runs our --precision=bf16 and PyTorch's bf16 autocast
# (channels_last), and the ratios of our bf16 to those two and to our fp32 step.
#
#   tools/compare_bench.sh [--model=resnet20] [--batch=128] [--steps=20] [--rounds=3] [--bf16]
#                          [--threads=N] [--input=CxHxW] [--classes=N] [-- ARGS FOR OURS...]
#
# --threads (default: cores available) goes to PyTorch as --threads and to ours as
# OMP_NUM_THREADS. --input and --classes are passed to both sides only when given. Arguments after
# `--` go to our binary only.
# Environment: BENCH_BIN, our binary (default: the -c opt build of //tools:bench, which the
# script builds when Bazel is installed); PYTHON, the Python with torch (default /usr/bin/python3).
# If our binary does not exist, says so and runs only the PyTorch side.
# Needs bash, coreutils and python3 (and Bazel to build our side, unless BENCH_BIN is given).
set -uo pipefail
cd "$(dirname "$0")/.."

model=resnet20 batch=128 steps=20 rounds=3 threads="$(nproc)" input="" classes="" bf16=0
ours_extra=()
while (($#)); do
  case "$1" in
    --model=*) model="${1#*=}" ;;
    --batch=*) batch="${1#*=}" ;;
    --steps=*) steps="${1#*=}" ;;
    --rounds=*) rounds="${1#*=}" ;;
    --threads=*) threads="${1#*=}" ;;
    --input=*) input="${1#*=}" ;;
    --classes=*) classes="${1#*=}" ;;
    --bf16) bf16=1 ;;
    --) shift; ours_extra=("$@"); break ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare_bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# bazel-bin points at whichever configuration was built last (a debug build runs LeNet 40%
# slower), so the default is the optimised binary, built here when Bazel is at hand.
if [[ -z "${BENCH_BIN:-}" ]] && command -v bazel >/dev/null 2>&1; then
  bazel build -c opt //tools:bench >&2 && BENCH_BIN="$(bazel info -c opt bazel-bin)/tools/bench"
fi
bench="${BENCH_BIN:-bazel-bin/tools/bench}"
python="${PYTHON:-/usr/bin/python3}"
common=(--model="$model" --batch="$batch" --steps="$steps")
[[ -n "$input" ]] && common+=(--input="$input")
[[ -n "$classes" ]] && common+=(--classes="$classes")

have_ours=1
if [[ ! -x "$bench" ]]; then
  have_ours=0
  echo "compare_bench: our benchmark $bench does not exist yet (bazel build -c opt //tools:bench," \
       "or set BENCH_BIN); running only the PyTorch side" >&2
fi

results="$(mktemp)" log="$(mktemp)"
trap 'rm -f "$results" "$log"' EXIT
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

# run TAG COMMAND...: runs one benchmark, appends "TAG<TAB>JSON" to $results.
run() {
  local tag="$1"; shift
  local out
  if ! out="$("$@" 2>"$log")"; then
    echo "compare_bench: $tag failed: $*" >&2
    tail -n 20 "$log" >&2
    return 1
  fi
  out="$(grep '^{' <<<"$out" | tail -n 1)"
  if [[ -z "$out" ]]; then
    echo "compare_bench: $tag printed no JSON line" >&2
    return 1
  fi
  printf '%s\t%s\n' "$tag" "$out" >>"$results"
  echo "compare_bench: round $round $tag: $out" >&2
}

for ((round = 1; round <= rounds; round++)); do
  if ((have_ours)); then
    run ours env OMP_NUM_THREADS="$threads" "$bench" "${common[@]}" "${ours_extra[@]}"
  fi
  run pytorch_nchw "$python" tools/pytorch_bench.py "${common[@]}" --threads="$threads"
  run pytorch_channels_last "$python" tools/pytorch_bench.py "${common[@]}" --threads="$threads" \
    --channels_last
  if ((bf16)); then
    if ((have_ours)); then
      run ours_bf16 env OMP_NUM_THREADS="$threads" "$bench" "${common[@]}" --precision=bf16 \
        "${ours_extra[@]}"
    fi
    run pytorch_bf16_channels_last "$python" tools/pytorch_bench.py "${common[@]}" \
      --threads="$threads" --channels_last --bf16
  fi
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

"$python" - "$results" "$model" "$batch" "$steps" "$rounds" "$threads" "$load_before" \
    "$load_after" <<'EOF'
import json, statistics, sys
path, model, batch, steps, rounds, threads, load_before, load_after = sys.argv[1:]
runs = {}
for line in open(path):
    tag, text = line.rstrip("\n").split("\t", 1)
    runs.setdefault(tag, []).append(json.loads(text))
print(f"{model}, batch {batch}, {steps} steps, {rounds} rounds, {threads} threads; "
      f"load average {load_before} before, {load_after} after")
order = ["ours", "pytorch_nchw", "pytorch_channels_last", "ours_bf16",
         "pytorch_bf16_channels_last"]
rows = {}
for tag in order:
    if tag not in runs:
        continue
    r = runs[tag]
    rss = [x.get("peak_rss_bytes") for x in r if x.get("peak_rss_bytes")]
    rows[tag] = {
        "img_per_s": statistics.median(x["img_per_s"] for x in r),
        "step_ms": statistics.median(x["median_step_ms"] for x in r),
        "rss_mib": max(rss) / 2**20 if rss else float("nan"),
        "arena_mib": (max(x["arena_bytes"] for x in r) / 2**20
                      if all("arena_bytes" in x for x in r) else None),
        "rounds": len(r),
    }
ours = rows.get("ours")
print(f"{'side':<24}{'img/s':>10}{'step ms':>10}{'peak RSS MiB':>14}{'ours/this':>11}  rounds")
for tag, row in rows.items():
    ratio = f"{ours['img_per_s'] / row['img_per_s']:.2f}x" if ours else "-"
    arena = f" (arena {row['arena_mib']:.1f} MiB)" if row["arena_mib"] is not None else ""
    print(f"{tag:<24}{row['img_per_s']:>10.1f}{row['step_ms']:>10.2f}{row['rss_mib']:>14.1f}"
          f"{ratio:>11}  {row['rounds']}{arena}")
ours_bf16 = rows.get("ours_bf16")
if ours_bf16:
    for tag in ("pytorch_bf16_channels_last", "ours"):
        if tag in rows:
            print(f"ours_bf16/{tag}: {ours_bf16['img_per_s'] / rows[tag]['img_per_s']:.2f}x")
if not ours:
    print("(our benchmark did not run: no ratio)")
print("medians over rounds of each run's median step; ours/this > 1 means ours is faster")
EOF
