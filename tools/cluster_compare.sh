#!/bin/bash
# Time to accuracy on an emulated cluster (issue 17): for each network SETTING, brings up 8
# emulated hosts (tools/cluster.sh), runs 8 MPI ranks, one per host, pipelined, with the
# in-process comparison's hyper-parameters (tools/compare_algorithms.sh: matcha8, batch 16 per
# worker, no momentum, weight decay 5e-4, the step schedule, MATCHA budget 0.5, one seed and one
# learning rate for all): all-reduce SGD (summed in rank order, and as DDP runs it: allreduce_mpi),
# D-PSGD, MATCHA, AL-DSGD over MATCHA and over D-PSGD, each in adapt-then-combine and (not
# all-reduce) adapt-with-combine. Then
# tools/cluster_compare.py writes OUT/results.md: per setting and run the training seconds to
# each target accuracy, final accuracy, bytes sent per worker, step time, compute and
# communication per step (//tools:overlap on the ranks' traces), CPU time, load average, a plot
# of accuracy against training seconds per setting, and a verdict on the paper's claim.
#
#   tools/cluster_compare.sh [--settings="lan gbit slow hetero"] [--steps=100] [--evals=4]
#       [--test_images=1000] [--model=resnet20] [--lr=0.4] [--seed=1] [--targets="0.4 0.5 0.6 0.7"]
#       [--runs="allreduce allreduce_mpi dpsgd matcha aldsgd_matcha aldsgd_dpsgd"] [--combines="atc awc"]
#       [--topology=matcha8] [--out=cluster_comparison] [--train=BINARY] [--report_only]
#
# Settings (tools/cluster.sh flags; every host's NIC is shaped in both directions):
#   lan     10 Gbit/s per host
#   gbit    1 Gbit/s per host
#   slow    100 Mbit/s per host
#   wan     100 Mbit/s and 20 ms one-way delay (needs netem, which some kernels lack)
#   hetero  1 Gbit/s, hosts 1 (matcha8's degree-5 worker) and 4 (its degree-1 worker) at 100 Mbit/s
# --topology: the trainer's --topology (matcha8, as in the paper; e.g. random-regular:3 gives
# every worker the same degree, a control for load balance). The hetero setting's slow hosts are
# matcha8's degree-5 and degree-1 workers; under another topology they are just hosts 1 and 4.
# --evals: evaluations spread evenly over --steps (each one runs 9 models over the test images,
# which costs wall time but not training time). --test_images: evaluate on the first N of the
# 10,000 Fashion-MNIST test images (OUT/data holds the cut test files; 0: all of them).
# --train: a trainer binary to use instead of building //tools:train (e.g. one on a shared file
# system). --report_only: only rewrite the report from OUT's runs. A run whose summary exists is
# not run again. The cluster (named "ttacmp") is removed after each setting, on failure and on
# Ctrl-C too. Needs root, iproute2, Open MPI, gnuplot for the plots; Fashion-MNIST at its
# Debian path. Bad arguments exit 2 naming the argument.
set -euo pipefail
start_dir="$PWD"
cd "$(dirname "$0")/.."

settings="lan gbit slow hetero" steps=100 evals=4 test_images=1000 model=resnet20 lr=0.4 seed=1
targets="0.4 0.5 0.6 0.7" runs="allreduce allreduce_mpi dpsgd matcha aldsgd_matcha aldsgd_dpsgd"
combines="atc awc" topology=matcha8 out=cluster_comparison train="" report_only=false
bad() { echo "cluster_compare.sh: $1" >&2; exit 2; }
for arg in "$@"; do
  case "$arg" in
    --settings=*) settings="${arg#*=}" ;;
    --steps=*) steps="${arg#*=}" ;;
    --evals=*) evals="${arg#*=}" ;;
    --test_images=*) test_images="${arg#*=}" ;;
    --model=*) model="${arg#*=}" ;;
    --lr=*) lr="${arg#*=}" ;;
    --seed=*) seed="${arg#*=}" ;;
    --targets=*) targets="${arg#*=}" ;;
    --runs=*) runs="${arg#*=}" ;;
    --combines=*) combines="${arg#*=}" ;;
    --topology=*) topology="${arg#*=}" ;;
    --out=*) out="${arg#*=}" ;;
    --train=*) train="${arg#*=}" ;;
    --report_only) report_only=true ;;
    *) bad "unknown argument '$arg' (see the header of tools/cluster_compare.sh)" ;;
  esac
done

declare -A setting_flags=(
  [lan]="--rate=10gbit"
  [gbit]="--rate=1gbit"
  [slow]="--rate=100mbit"
  [wan]="--rate=100mbit --delay=20ms"
  [hetero]="--rate=1gbit --host-rate=1:100mbit --host-rate=4:100mbit"
)
declare -A run_flags=(
  [allreduce]="--algo=allreduce"
  # All-reduce as DDP or Horovod run it: MPI's own all-reduce (a bandwidth-optimal algorithm of
  # its choice, not summed in rank order, so its bits are not the in-process run's) and DDP's
  # bucketing of a 1 MB model (a first bucket of at most 1 MiB, then the rest: two buckets).
  # The default run sums in rank order instead: an all-to-all and an all-gather per bucket
  # (CommOptions::reproducible_sums).
  [allreduce_mpi]="--algo=allreduce --reproducible_sums=false --min_buckets=2"
  [dpsgd]="--algo=dpsgd"
  [matcha]="--algo=matcha"
  [aldsgd_matcha]="--algo=aldsgd --base=matcha"
  [aldsgd_dpsgd]="--algo=aldsgd --base=dpsgd"
)
[[ -n "$settings" ]] || bad "--settings: expected at least one of ${!setting_flags[*]}"
for s in $settings; do
  [[ -n "${setting_flags[$s]:-}" ]] || bad "--settings: '$s' is not one of ${!setting_flags[*]}"
done
for r in $runs; do
  [[ -n "${run_flags[$r]:-}" ]] || bad "--runs: '$r' is not one of ${!run_flags[*]}"
done
for c in $combines; do
  [[ $c == atc || $c == awc ]] || bad "--combines: '$c' is not atc or awc"
done
[[ "$steps" =~ ^[1-9][0-9]*$ ]] || bad "--steps=$steps: expected a positive step count"
[[ "$evals" =~ ^[1-9][0-9]*$ ]] && ((evals <= steps)) ||
  bad "--evals=$evals: expected 1..--steps ($steps) evaluations"
[[ "$test_images" =~ ^[0-9]+$ ]] && ((test_images <= 10000)) ||
  bad "--test_images=$test_images: expected 0 (all) .. 10000"
[[ "$seed" =~ ^[0-9]+$ ]] || bad "--seed=$seed: expected a non-negative integer"
[[ "$lr" =~ ^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$ ]] || bad "--lr=$lr: expected a positive number"
for t in $targets; do
  [[ "$t" =~ ^0?\.[0-9]+$ ]] || bad "--targets: '$t' is not an accuracy in (0, 1) like 0.75"
done
[[ -n "$targets" ]] || bad "--targets: expected at least one accuracy like 0.75"
# The trainer checks the topology itself (unknown kinds, a graph that is not connected); this
# only keeps a value that cannot be one from reaching 40 runs.
[[ "$topology" =~ ^[a-z0-9-]+(:[^[:space:]]+)?$ ]] ||
  bad "--topology=$topology: expected a trainer topology like matcha8 or random-regular:3"
[[ "$out" == /* ]] || out="$start_dir/$out"
if [[ -n "$train" && "$train" != /* ]]; then train="$start_dir/$train"; fi
[[ -z "$train" || -x "$train" ]] || bad "--train=$train: not an executable file"

report() {
  python3 tools/cluster_compare.py "$out" --settings="$settings" --targets="$targets" \
    --topology="$topology"
}
if $report_only; then
  [[ -d "$out" ]] || bad "--out=$out: no such directory (nothing to report)"
  report
  exit 0
fi

# Everything the runs use is copied into OUT first, so that a rebuild during an hour-long
# comparison cannot change it half-way.
mkdir -p "$out"
if [[ -z "$train" ]]; then
  bazel build -c opt //tools:train //tools:overlap >/dev/null
  bin="$(bazel info -c opt bazel-bin 2>/dev/null)"
  train="$bin/tools/train"
else
  bazel build -c opt //tools:overlap >/dev/null
  bin="$(bazel info -c opt bazel-bin 2>/dev/null)"
fi
cp -f "$train" "$out/train"
cp -f "$bin/tools/overlap" "$out/overlap"

# The test images: the first N of Fashion-MNIST's test set, as IDX files beside links to the
# training files (the trainer's --data_dir). Evaluation of 9 models over all 10,000 images costs
# as much as ~100 training steps of 8 workers; the cut keeps the comparison's wall time for
# training.
data_dir=/usr/share/datasets/fashion-mnist
if ((test_images > 0)); then
  mkdir -p "$out/data"
  ln -sf "$data_dir"/train-*-ubyte.gz "$out/data/"
  python3 - "$data_dir" "$out/data" "$test_images" <<'PY'
import gzip, struct, sys
source, target, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for name, item_bytes in (("t10k-images-idx3-ubyte.gz", 28 * 28), ("t10k-labels-idx1-ubyte.gz", 1)):
    data = gzip.open("%s/%s" % (source, name)).read()
    dims = 3 if item_bytes > 1 else 1
    header = 4 + 4 * dims
    magic, count = struct.unpack(">II", data[:8])
    with gzip.open("%s/%s" % (target, name), "wb") as f:
        f.write(struct.pack(">II", magic, n) + data[8:header] + data[header:header + n * item_bytes])
PY
  data_dir="$out/data"
fi

common=(--comm=mpi --threads_per_worker=1 --pipeline=true --model="$model"
        --dataset=fashion_mnist --data_dir="$data_dir" --topology="$topology" --batch=16
        --momentum=0 --weight_decay=5e-4 --lr_schedule=step --lr="$lr" --seed="$seed"
        --budget=0.5 --steps="$steps" --eval_every=$(((steps + evals - 1) / evals)) --quiet
        --timeout=120)
cluster=ttacmp
cleanup() { tools/cluster.sh down --name="$cluster" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The machine's softirq time so far, in clock ticks (/proc/stat's "cpu" line, 7th field): the
# emulated network's packets are processed there, on the same cores as the ranks.
softirq_ticks() { awk '$1 == "cpu" { print $8 }' /proc/stat; }

# run_one SETTING NAME FLAGS...: one 8-rank training on the cluster that is up; each rank's CPU
# time (user, system) goes to NAME.cpu.RANK, the load average before and after to NAME.load, the
# machine's softirq seconds during the run to NAME.softirq.
run_one() {
  local dir="$out/$1/runs" name="$2"
  shift 2
  if [[ -f "$dir/$name.json" ]]; then echo "  $name: done before"; return 0; fi
  echo "  $name: $*"
  rm -f "$dir/$name".*
  cut -d' ' -f1-3 /proc/loadavg >"$dir/$name.load"
  local begin=$SECONDS code=0 softirq_before
  softirq_before=$(softirq_ticks)
  tools/cluster.sh mpirun --name="$cluster" -np 8 --map-by ppr:1:node --bind-to none \
    /bin/sh -c 'exec /usr/bin/time -f "%U %S" -o "$0.cpu.$OMPI_COMM_WORLD_RANK" "$@"' \
    "$dir/$name" "$out/train" "${common[@]}" "$@" --metrics="$dir/$name.csv" \
    --summary_json="$dir/$name.summary.json" --trace="$dir/$name.trace" \
    >"$dir/$name.log" 2>&1 || code=$?
  cut -d' ' -f1-3 /proc/loadavg >>"$dir/$name.load"
  echo "$(( $(softirq_ticks) - softirq_before )) $(getconf CLK_TCK)" |
    awk '{ printf "%.2f\n", $1 / $2 }' >"$dir/$name.softirq"
  if ((code != 0)); then
    echo "  $name failed (exit $code); its log: $dir/$name.log" >&2
    tail -5 "$dir/$name.log" >&2
    return 1
  fi
  # The ranks' traces into one, then the overlap report of it; the traces themselves are large
  # and go.
  tools/merge_traces.sh "$dir/$name.trace".rank* >"$dir/$name.trace.json"
  "$out/overlap" "$dir/$name.trace.json" >"$dir/$name.overlap"
  rm -f "$dir/$name.trace".rank* "$dir/$name.trace.json"
  # The summary last: it marks the run as done.
  mv "$dir/$name.summary.json" "$dir/$name.json"
  echo "  $name: $((SECONDS - begin)) s"
}

started=$SECONDS
for setting in $settings; do
  echo "setting $setting: tools/cluster.sh up ${setting_flags[$setting]}"
  mkdir -p "$out/$setting/runs"
  # shellcheck disable=SC2086  # a setting is a list of flags
  tools/cluster.sh up --name="$cluster" --hosts=8 ${setting_flags[$setting]} \
    >"$out/$setting/cluster.txt" 2>&1 || { cat "$out/$setting/cluster.txt" >&2; exit 2; }
  failed=0
  for r in $runs; do
    for c in $combines; do
      # All-reduce averages gradients: there is no combine order to choose.
      [[ $r == allreduce* && $c == awc ]] && continue
      name="${r}_$c"
      [[ $r == allreduce* ]] && name=$r
      # shellcheck disable=SC2086  # a run is a list of flags
      run_one "$setting" "$name" ${run_flags[$r]} --combine="$c" || failed=1
    done
  done
  cleanup
  ((failed == 0)) || echo "setting $setting: some runs failed; the report leaves them out" >&2
done
echo "all settings: $((SECONDS - started)) s of wall time for the runs not done before"
report
