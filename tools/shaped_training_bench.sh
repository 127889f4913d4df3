#!/bin/bash
# Benchmark on a constrained network (issue 7): trains each of MODELS (ResNet-20 and VGG-11 by
# default) on Fashion-MNIST with RANKS MPI processes on a ring, over TCP on the loopback of a
# private network namespace shaped to RATE
# (tools/netns_lib.sh), with D-PSGD and with AL-DSGD over D-PSGD (--base=dpsgd --graphs=1, the
# other AL-DSGD settings at the trainer's defaults), in each of COMBINES (--combine: atc, the
# default, sends each bucket once its gradients are final; awc sends the pre-step model as the
# step begins), each once sequential (--pipeline=false) and once pipelined (--pipeline=true), and
# prints a Markdown table, a row per model, algorithm and combine order:
#
#   compute only   median over steps of (step time - exposed communication) in the SEQUENTIAL
#                  run: what a step costs when its computation never waits for the network, with
#                  the same RANKS processes sharing the same cores (a single-process run would have
#                  the cores to itself and look faster than any step of the real job can be).
#   comm only      //comm:bench's ring neighbour exchange of a model-sized buffer (ResNet-20:
#                  269,722 floats, the trainer sends its 269,434 to each neighbour; VGG-11:
#                  9,228,362) by the same RANKS processes under the same shaping, nothing else
#                  running: the exchange alone.
#   sequential     median step time of the sequential run; pipelined: the same of the pipelined
#                  run. A step's time is the "step" event's duration, averaged over the ranks by
#                  //tools:overlap (whose per-step lines this script reads).
#   hidden         1 - exposed / comm over the pipelined run's measured steps (the report's
#                  definition: comm is the union of transfers, exposed the time in waits).
#                  A transfer ends where MPI's progress thread saw it finish; AL-DSGD's 8-byte
#                  loss messages are left out (they move no bandwidth). "exposed seq / pipe"
#                  (medians of the time in waits in each run) shows how much waiting
#                  pipelining took off the step.
#   overlap        means over the pipelined run's measured steps of its compute, its
#                  communication (both as the report counts them) and their overlap: the
#                  compute that ran while a transfer was in flight. "shorter hidden" is
#                  overlap / min(compute, comm), the share of the shorter of the two that the
#                  pipeline hid under the other, both taken from the run they were hidden in.
#   targets        pipelined <= 1.05 x max(compute only, comm only); shorter hidden >= 90%.
#   link use       the model bytes the ranks sent in the pipelined run's measured steps over
#                  what the shaped link carries in that time (the ranks' traces share the Unix
#                  epoch as their clock, so one window spans them all): how busy the exchange
#                  kept the link.
#   progress thread  CPU time of the MPI progress thread per second of the pipelined run (one
#                  rank), the price of keeping communication moving on the computing cores.
#   buckets        how many messages per neighbour the model exchange used: ATC's buckets
#                  (pipelining overlaps a bucket's exchange with the backward pass of the buckets
#                  after it; one bucket: nothing); AWC sends the whole model as one message, since
#                  its exchange starts with the step.
# A second table splits the pipelined run's time by how many send lanes (rank, peer) had a model
# transfer in flight, with the link use in each part (//tools:link_sampler reads the shaped
# device's counter every millisecond; tools/link_by_lanes.py): "all lanes" is the time with the
# most lanes busy, "fewer" the rest. It tells whether the link idles because too few transfers
# are posted or because those posted move slowly.
# A third table gives what each run's measured steps cost in CPU, per step (tools/cpu_cost.py,
# sampling /proc every 25 ms beside every run): the machine's softirq, system, user, idle,
# iowait and steal time (both cores together, so a row's columns add up to step x cores), the
# ranks' user and system time (their threads included: compute, the MPI progress thread, the
# kernel's TCP work done in their context), and the compute inflation: the pipelined run's
# compute over compute only, and its ranks' user CPU over the sequential run's. "ranks' CPU /
# cores" is the step the ranks' CPU time allows at best, all cores busy with them alone; the
# last column sets the pipelined step against it (or comm only, if longer). /proc/stat is
# machine-wide (the ranks' namespace is a network namespace only), so "other" is whatever else
# ran: mpirun, the samplers, any other job; the caption gives the load average before and after.
# The first WARMUP steps of every run are left out of every figure. Medians, not means, because
# a 2-core machine running 4 ranks has occasional long steps from scheduling.
#
#   tools/shaped_training_bench.sh [--rate=1gbit] [--ranks=4] [--steps=20] [--warmup=4]
#       [--batch=32] [--models="resnet20 vgg11"] [--combines="atc awc"] [--bucket_mb=MB]
#       [--wire=fp32] [--out=FILE] [--trace_dir=DIR]
#
# --wire goes to the trainer and to //comm:bench (fp32 or bf16: models sent at half the bytes,
# packed and unpacked as the trainer does).
# --bucket_mb goes to the trainer when given (its default: 25 MiB, and at least 16 buckets). --trace_dir keeps the per-rank traces, merged traces and overlap reports there
# (default: a temporary folder, removed at the end). The overlap reports also go to stderr; the
# table goes to stdout and, with --out, to FILE. Needs root, iproute2 (ip, tc), Open MPI and
# Bazel; builds //tools:train, //tools:overlap and //comm:bench with -c opt. The namespace is
# removed at the end, on failure too.
set -euo pipefail
start_dir="$PWD"  # --out and --trace_dir are meant from where the user typed them
cd "$(dirname "$0")/.."
source tools/netns_lib.sh

rate=1gbit ranks=4 steps=20 warmup=4 batch=32 models="resnet20 vgg11" combines="atc awc"
bucket_mb="" out="" wire=fp32
trace_dir=""
usage() { sed -n '/^#   tools\/shaped_training_bench.sh/,/^#       \[--out/p' "$0" | sed 's/^# *//' >&2; }
for arg in "$@"; do
  case "$arg" in
    --rate=*) rate="${arg#*=}" ;;
    --ranks=*) ranks="${arg#*=}" ;;
    --steps=*) steps="${arg#*=}" ;;
    --warmup=*) warmup="${arg#*=}" ;;
    --batch=*) batch="${arg#*=}" ;;
    --bucket_mb=*) bucket_mb="${arg#*=}" ;;
    --models=*) models="${arg#*=}" ;;
    --combines=*) combines="${arg#*=}" ;;
    --out=*) out="${arg#*=}" ;;
    --wire=*) wire="${arg#*=}" ;;
    --trace_dir=*) trace_dir="${arg#*=}" ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument '$arg'" >&2; usage; exit 2 ;;
  esac
done
for pair in "ranks:$ranks" "steps:$steps" "batch:$batch"; do
  [[ ${pair#*:} =~ ^[1-9][0-9]*$ ]] || { echo "--${pair%%:*} must be a positive integer" >&2; exit 2; }
done
[[ $warmup =~ ^[0-9]+$ ]] || { echo "--warmup must be a non-negative integer" >&2; exit 2; }
if ((warmup >= steps)); then
  echo "--warmup ($warmup) must be below --steps ($steps): no step would be measured" >&2
  exit 2
fi
[[ $wire == fp32 || $wire == bf16 ]] || { echo "--wire must be fp32 or bf16" >&2; exit 2; }
((ranks >= 3)) || { echo "--ranks must be at least 3 (a ring)" >&2; exit 2; }
for combine in $combines; do
  [[ $combine == atc || $combine == awc ]] ||
    { echo "--combines: $combine is not one of atc awc" >&2; exit 2; }
done
if [[ -n $out && $out != /* ]]; then out="$start_dir/$out"; fi
if [[ -n $trace_dir && $trace_dir != /* ]]; then trace_dir="$start_dir/$trace_dir"; fi

netns_require mpirun
bazel build -c opt //tools:train //tools:overlap //tools:link_sampler //comm:bench
bin="$(bazel info -c opt bazel-bin)"
train="$bin/tools/train" overlap="$bin/tools/overlap" bench="$bin/comm/bench"
sampler="$bin/tools/link_sampler"
# The shaped rate in bytes per second (tc's units: SI bits per second).
rate_bytes=$(python3 -c 'import re, sys
unit = re.fullmatch(r"([0-9.]+)([kmg]?)bit", sys.argv[1])
if not unit: sys.exit("--rate: expected e.g. 1gbit or 100mbit, got " + sys.argv[1])
print(float(unit[1]) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[unit[2]] / 8)' "$rate")

namespace="ald_shaped_train_$$"
keep_dir=1
if [[ -z $trace_dir ]]; then
  trace_dir="$(mktemp -d)"
  keep_dir=0
fi
mkdir -p "$trace_dir"
cleanup() {
  netns_delete "$namespace"
  if ((keep_dir == 0)); then rm -rf "$trace_dir"; fi
}
trap cleanup EXIT
netns_create "$namespace" "$rate"
load_before=$(cut -d' ' -f1 /proc/loadavg)

# One thread per rank (RANKS processes share the cores), and OpenMP workers that stop spinning
# soon, so that an idle rank's threads give their core to a rank that computes.
mpi_env=(-x GOMP_SPINCOUNT=10000 -x OMP_NUM_THREADS=1)

# The communication alone: the benchmark's ring exchange under the same shaping. The ping-pong it
# always runs first is cut to one 1 MiB size to keep it short.
echo "== comm bench ($ranks ranks, $rate)" >&2
netns_mpirun "$namespace" -np "$ranks" "${mpi_env[@]}" "$bench" --comm=mpi --wire="$wire" \
  --min_bytes=1048576 --max_bytes=1048576 | tee "$trace_dir/comm_bench.txt" >&2
declare -A display=([resnet20]="ResNet-20" [vgg11]="VGG-11")
declare -A comm_only
for model in $models; do
  [[ -n ${display[$model]:-} ]] || { echo "--models: $model is not one of resnet20 vgg11" >&2; exit 2; }
  comm_only[$model]=$(awk -v name="${display[$model]}" \
    '/neighbour exchange/ && index($0, name) { print $(NF - 1) }' "$trace_dir/comm_bench.txt")
  [[ -n ${comm_only[$model]} ]] ||
    { echo "no ${display[$model]} ring exchange in the comm bench output" >&2; exit 1; }
done

# run_training NAME PIPELINE ALGO-FLAGS...: trains, merges the ranks' traces into NAME.json and
# writes //tools:overlap's report of it to NAME.overlap.
run_training() {
  local model="$1" name="$2" pipeline="$3"
  shift 3
  local flags=(--comm=mpi --model="$model" --dataset=fashion_mnist --topology=ring
               --batch="$batch" --steps="$steps" --eval_every=100000 --quiet
               --pipeline="$pipeline" --wire="$wire" --trace="$trace_dir/$name.trace"
               --summary_json="$trace_dir/$name.summary.json" "$@")
  if [[ -n $bucket_mb ]]; then flags+=(--bucket_mb="$bucket_mb"); fi
  if [[ $model == vgg* ]]; then flags+=(--pad=2); fi  # 32x32: VGG halves the image five times
  echo "== $name: train ${flags[*]}" >&2
  rm -f "$trace_dir/$name.trace".rank*
  # What the shaped link carried, sampled beside the pipelined runs only (it costs <1% of a core).
  local sampler_pid=""
  if [[ $pipeline == true ]]; then
    # Not through netns_exec: a function would run in a subshell, and $! would name the shell.
    # `ip netns exec` execs the sampler, so $! is the sampler itself.
    ip netns exec "$namespace" "$sampler" --out="$trace_dir/$name.link" &
    sampler_pid=$!
  fi
  # The CPU that the run costs, sampled outside the namespace: /proc is the same there.
  python3 tools/cpu_cost.py sample --out="$trace_dir/$name.cpu" --exe="$train" \
    --ranks="$ranks" &
  local cpu_sampler_pid=$!
  local trained=0
  # (OMP_NUM_THREADS reaches the comm bench; the trainer takes its count from its own flag.)
  netns_mpirun "$namespace" -np "$ranks" "${mpi_env[@]}" "$train" "${flags[@]}" \
    --threads_per_worker=1 >&2 || trained=$?
  kill -TERM "$cpu_sampler_pid"
  wait "$cpu_sampler_pid" || { echo "$name: the CPU sampler failed" >&2; return 1; }
  if [[ -n $sampler_pid ]]; then
    kill -TERM "$sampler_pid"
    wait "$sampler_pid" || { echo "$name: the link sampler failed" >&2; return 1; }
  fi
  ((trained == 0)) || { echo "$name: training failed (exit $trained)" >&2; return 1; }
  # Each rank writes its own trace (pid = rank, times from its own start). The report works per
  # pid, so the ranks' events go into one trace: Trace::WriteJson puts one event per line, and
  # //tools:overlap rejects the result loudly if that ever changes.
  local rank files=()
  for ((rank = 0; rank < ranks; ++rank)); do
    local file="$trace_dir/$name.trace.rank$rank"
    [[ -s $file ]] || { echo "$name: rank $rank wrote no trace ($file)" >&2; return 1; }
    files+=("$file")
  done
  tools/merge_traces.sh "${files[@]}" >"$trace_dir/$name.json"
  "$overlap" "$trace_dir/$name.json" >"$trace_dir/$name.overlap"
  if ! grep -q "^$ranks worker(s)" "$trace_dir/$name.overlap"; then
    echo "$name: the merged trace does not hold $ranks workers:" >&2
    head -1 "$trace_dir/$name.overlap" >&2
    return 1
  fi
  echo "== $name: overlap report" >&2
  cat "$trace_dir/$name.overlap" >&2
  python3 tools/cpu_cost.py per_step "$trace_dir/$name.cpu" "$trace_dir/$name.json" \
    --from_step="$warmup" >"$trace_dir/$name.cpu_per_step"
  echo "== $name: CPU ms per step: $(<"$trace_dir/$name.cpu_per_step")" >&2
  if [[ $pipeline == true ]]; then
    python3 tools/link_by_lanes.py "$trace_dir/$name.json" "$trace_dir/$name.link" \
      "$rate_bytes" --from_step="$warmup" --summary="$trace_dir/$name.lanes_summary" |
      tee "$trace_dir/$name.lanes" >&2
  fi
}

# step_figures NAME: from NAME.overlap's per-step lines (step wall compute comm exposed hidden
# overlap overlap%, ms, means over ranks), steps >= WARMUP: "median_wall median_(wall-exposed)
# median_exposed hidden_fraction mean_compute mean_comm mean_overlap steps".
step_figures() {
  awk -v warmup="$warmup" '
    function median(values, n,   i, j, t) {
      for (i = 2; i <= n; ++i) {  # insertion sort: a few dozen steps at most
        t = values[i]
        for (j = i - 1; j >= 1 && values[j] > t; --j) values[j + 1] = values[j]
        values[j + 1] = t
      }
      return n % 2 ? values[(n + 1) / 2] : (values[n / 2] + values[n / 2 + 1]) / 2
    }
    /^step / { in_steps = 1; next }
    /^average/ { in_steps = 0 }
    in_steps && $1 ~ /^[0-9]+$/ && $1 >= warmup {
      ++n; wall[n] = $2; busy[n] = $2 - $5; waited[n] = $5
      compute += $3; comm += $4; exposed += $5; overlap += $7
    }
    END {
      if (n == 0) exit 1
      printf("%.3f %.3f %.3f %s %.3f %.3f %.3f %d\n", median(wall, n), median(busy, n),
             median(waited, n), comm > 0 ? sprintf("%.4f", 1 - exposed / comm) : "nan",
             compute / n, comm / n, overlap / n, n)
    }' "$trace_dir/$1.overlap" || { echo "$1: no steps at or after step $warmup" >&2; return 1; }
}

declare -A label=([dpsgd]="D-PSGD" [aldsgd]="AL-DSGD (over D-PSGD, 1 graph)")
declare -A algo_flags=([dpsgd]="--algo=dpsgd" [aldsgd]="--algo=aldsgd --base=dpsgd --graphs=1")
rows=() lane_rows=() cpu_rows=()
for model in $models; do
for algo in dpsgd aldsgd; do
for combine in $combines; do
  read -r -a extra <<<"${algo_flags[$algo]} --combine=$combine"
  run="$model.$algo.$combine"
  run_training "$model" "$run.sequential" false "${extra[@]}"
  run_training "$model" "$run.pipelined" true "${extra[@]}"
  # Assigned first so that a failure stops the script (a failing `read <<<"$(...)"` would not).
  sequential=$(step_figures "$run.sequential")
  pipelined=$(step_figures "$run.pipelined")
  # The MPI progress thread's CPU per second of training (the last rank to write the summary).
  progress=$(python3 -c 'import json, sys; s = json.load(open(sys.argv[1]));
print("%.1f%%" % (100 * s["progress_thread_cpu_seconds"] / s["wall_seconds"]))' \
    "$trace_dir/$run.pipelined.summary.json")
  # Model bytes sent over the window from the first rank's start of step WARMUP to the last
  # rank's end of the last step, against the link's rate.
  link_use=$(python3 - "$trace_dir/$run.pipelined.json" "$warmup" "$rate_bytes" <<'PY'
import json, sys
events = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e.get("ph") == "X"]
warmup, bytes_per_second = int(sys.argv[2]), float(sys.argv[3])
steps = [e for e in events if e["cat"] == "step" and e["args"]["step"] >= warmup]
begin, end = min(e["ts"] for e in steps), max(e["ts"] + e["dur"] for e in steps)
sent = sum(e["args"]["bytes"] for e in events
           if e["cat"] == "comm" and e["name"] == "send"
           and e["args"].get("kind") in ("model", "pre-step model")
           and begin <= e["ts"] < end)
print("%.0f%%" % (100 * sent / ((end - begin) / 1e6 * bytes_per_second)))
PY
)
  read -r most all_time all_use fewer_time fewer_use <"$trace_dir/$run.pipelined.lanes_summary"
  lane_rows+=("| ${display[$model]} | ${label[$algo]} | $combine | $most | $all_time | $all_use | $fewer_time | $fewer_use |")
  read -r seq_wall seq_busy seq_exposed _ _ _ _ n_seq <<<"$sequential"
  read -r pipe_wall _ pipe_exposed hidden pipe_compute pipe_comm overlap_ms n_pipe <<<"$pipelined"
  # Buckets of the model exchange (the trace's comm events carry the bucket index).
  buckets=$(grep -Eo '"bucket":[0-9]*,"peer":[0-9]*,"bytes":[0-9]*,"kind":"(pre-step )?model"' \
    "$trace_dir/$run.pipelined.json" | cut -d, -f1 | sort -u | wc -l)
  # CPU per step of both runs (tools/cpu_cost.py per_step's fields), a row each.
  for kind in sequential pipelined; do
    cpu_rows+=("$(awk -v name="${display[$model]} | ${label[$algo]} | $combine | $kind" \
        -v kind="$kind" -v compute="$seq_busy" -v pipe_compute="$pipe_compute" \
        -v comm="${comm_only[$model]}" -v pipe="$pipe_wall" -v cores="$(nproc)" '
      NR == 1 { seq_user = $10 }
      NR == 2 {
        ranks = ""
        for (i = 15; i <= NF; ++i) {
          split($i, f, ":")
          ranks = ranks sprintf("%s%.1f / %.1f", i > 15 ? ", " : "", f[2], f[3])
        }
        floor = ($10 + $11) / cores  # what the ranks ran, were it spread evenly over the cores
        inflation = "- | - | -"
        if (kind == "pipelined")
          inflation = sprintf("%.2fx | %.2fx | %.2fx", pipe_compute / compute, $10 / seq_user,
                              pipe / (floor > comm ? floor : comm))
        printf("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f / %.1f | %.1f / %.1f | %s | %.1f | %.1f | %s |\n",
               name, $1, $2, $3, $4 + $5, $9, $7, $8, $10, $11, ranks, $12, floor, inflation)
      }' "$trace_dir/$run.sequential.cpu_per_step" "$trace_dir/$run.$kind.cpu_per_step")")
  done
  rows+=("$(awk -v name="${display[$model]} | ${label[$algo]} | $combine" -v compute="$seq_busy" \
      -v comm="${comm_only[$model]}" -v seq="$seq_wall" -v pipe="$pipe_wall" -v hidden="$hidden" \
      -v pipe_compute="$pipe_compute" -v pipe_comm="$pipe_comm" -v overlap="$overlap_ms" \
      -v seq_exposed="$seq_exposed" -v pipe_exposed="$pipe_exposed" -v buckets="$buckets" \
      -v steps="$n_seq/$n_pipe" -v progress="$progress" -v link_use="$link_use" 'BEGIN {
    longer = compute > comm ? compute : comm
    fast = pipe <= 1.05 * longer ? "yes" : "no"
    shorter = pipe_compute < pipe_comm ? pipe_compute : pipe_comm
    share = shorter > 0 ? overlap / shorter : 0
    hides = share >= 0.9 ? "yes" : "no"
    printf("| %s | %.1f | %.1f | %.1f | %.1f | %s (%.2fx) | %s | %.1f / %.1f | %.1f / %.1f / %.1f | %s (%.1f%%) | %s | %d | %s | %s |\n",
           name, compute, comm, seq, pipe, fast, pipe / longer,
           hidden == "nan" ? "-" : sprintf("%.1f%%", 100 * hidden), seq_exposed, pipe_exposed,
           pipe_compute, pipe_comm, overlap, hides, 100 * share, link_use, buckets, steps,
           progress)
  }')")
done
done
done

bucket_note="${bucket_mb:-25} MiB"
if [[ -z $bucket_mb ]]; then bucket_note+=", at least 16 buckets (the trainer's default)"; fi
{
  echo "Fashion-MNIST, $ranks MPI ranks on a ring over a loopback shaped to $rate," \
    "batch $batch per rank, steps $warmup..$((steps - 1)) of $steps (ms, medians over steps;" \
    "bucket cap $bucket_note; models on the wire in $wire; $(nproc) cores)."
  echo
  echo "| model | algorithm | combine | compute only | comm only | sequential | pipelined" \
    "| pipelined <= 1.05 x max | hidden | exposed seq / pipe" \
    "| pipelined run: compute / comm / overlap | shorter hidden >= 90% | link use | buckets" \
    "| steps (seq/pipe) | progress thread |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Link use by busy send lanes, pipelined runs (a lane: one rank's sends to one peer)."
  echo
  echo "| model | algorithm | combine | lanes | all busy: time | link use | fewer busy: time | link use |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${lane_rows[@]}"
  echo
  echo "CPU per measured step, both runs (ms: the run's window over its steps; machine-wide" \
    "figures over all $(nproc) cores, from /proc/stat; load average before/after the" \
    "benchmark: $load_before / $(cut -d' ' -f1 /proc/loadavg))."
  echo
  echo "| model | algorithm | combine | run | step | softirq | system | user (and nice) | idle" \
    "| iowait / steal | ranks: user / system | each rank: user / system | other" \
    "| ranks' CPU / cores | compute inflation | ranks' user CPU vs sequential" \
    "| pipelined / max(ranks' CPU / cores, comm only) |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${cpu_rows[@]}"
} | if [[ -n $out ]]; then tee "$out"; else cat; fi
