#!/bin/bash
# tools/cluster_compare.sh without a cluster: bad arguments exit 2 naming the argument, and
# --report_only turns made-up runs with known figures into the table and verdicts they imply.
#   cluster_compare_test.sh CLUSTER_COMPARE_SH
set -uo pipefail
script="$1"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0

expect_bad() {  # expect_bad TEXT ARGS...: exit 2 with TEXT in the message
  local text="$1" message code
  shift
  message=$("$script" "$@" 2>&1 >/dev/null)
  code=$?
  if [[ $code == 2 && "$message" == *"$text"* ]]; then
    echo "PASS: $* -> exit 2, '$text'"
  else
    echo "FAIL: $* -> exit $code, '$message' (want exit 2 naming '$text')"
    fail=1
  fi
}
expect_bad "'--bogus'" --bogus
expect_bad "--settings: 'moon'" --settings=moon
expect_bad "--steps=0" --steps=0
expect_bad "--evals=9" --steps=5 --evals=9
expect_bad "--test_images=20000" --test_images=20000
expect_bad "--lr=fast" --lr=fast
expect_bad "--targets: '75'" --targets=75
expect_bad "--runs: 'sgd'" --runs=sgd
expect_bad "--combines: 'atc2'" --combines=atc2
expect_bad "--topology=ring 8" "--topology=ring 8"
expect_bad "--train=$out/none" --train="$out/none"
expect_bad "--out=$out/none" --report_only --out="$out/none"

# write_run SETTING NAME TRAIN_SECONDS_1 ACC_1 TRAIN_SECONDS_2 ACC_2 [SOFTIRQ_SECONDS]: 20 steps,
# evaluations at steps 10 and 20 (8 workers at the same accuracy; with BYTES_SENT=yes a
# bytes_sent column where worker w has sent (w + 1) MB at step 10 and twice that at step 20, so
# the busiest has sent 16 MB); every step 100 ms wall, 80 ms
# compute, 40 ms comm, 10 ms exposed; each rank 3 s user + 1 s system; load 4.0 before, 6.0
# after; the machine's softirq seconds during the run if given (a run from before they were
# recorded has none).
write_run() {
  local dir="$out/$1/runs" name="$2"
  mkdir -p "$dir"
  echo '{"steps": 20, "epochs": 1, "bytes_sent_per_worker": 5000000}' >"$dir/$name.json"
  {
    local bytes_header=""
    [[ "${BYTES_SENT:-}" == yes ]] && bytes_header=",bytes_sent"
    echo "epoch,step,worker,train_loss,test_accuracy,average_model_accuracy,wall_seconds,train_seconds$bytes_header"
    for w in 0 1 2 3 4 5 6 7; do echo "1,10,$w,0.5,$4,$4,99,$3${bytes_header:+,$(((w + 1) * 1000000))}"; done
    for w in 0 1 2 3 4 5 6 7; do echo "1,20,$w,0.4,$6,$6,99,$5${bytes_header:+,$(((w + 1) * 2000000))}"; done
  } >"$dir/$name.csv"
  {
    echo "8 worker(s), 20 step(s) (from step events); milliseconds, means over workers"
    echo "step          wall  compute     comm  exposed   hidden  overlap overlap%"
    echo "0       9999.000 9999.000 9999.000 9999.000    50.0%  0.000    0.0%"  # warm-up: left out
    for step in $(seq 2 19); do
      echo "$step        100.000   80.000   40.000   10.000    75.0%   30.000   75.0%"
    done
    echo "average  9999.000 9999.000 9999.000 9999.000    75.0%   30.000   75.0%"
  } >"$dir/$name.overlap"
  for rank in 0 1 2 3 4 5 6 7; do printf '3.00 1.00\n' >"$dir/$name.cpu.$rank"; done
  printf '4.00 3.00 2.00\n6.00 4.00 2.50\n' >"$dir/$name.load"
  if [[ -n "${7:-}" ]]; then echo "$7" >"$dir/$name.softirq"; fi
}
# gbit: AL-DSGD reaches 70% at its first evaluation (5 s), MATCHA at its second (12 s): 2.4x.
BYTES_SENT=yes write_run gbit aldsgd_matcha_atc 5 0.72 10 0.80 0.80
BYTES_SENT=yes write_run gbit matcha_atc 6 0.65 12 0.795
# lan: the same curves within noise: not separable.
write_run lan aldsgd_matcha_atc 5 0.71 10 0.80
write_run lan matcha_atc 5.2 0.70 10.3 0.797
"$script" --report_only --out="$out" --settings="gbit lan" --targets="0.6 0.7 0.9" \
  --topology=random-regular:3 >"$out/printed.txt" 2>&1 || { echo "FAIL: --report_only exited $?"; cat "$out/printed.txt"; fail=1; }

expect() {  # expect TEXT: a line of results.md holds TEXT
  if grep -qF -- "$1" "$out/results.md"; then echo "PASS: $1"; else echo "FAIL: no '$1'"; fail=1; fi
}
# step ms = 1000 * 10 s / 20 steps; warm-up step 0 left out of compute/comm; CPU 8 x 4 s;
# system per rank and step 1000 * 1 s / 20 = 50 ms; softirq 1000 * 0.8 s / 8 ranks / 20 steps
# = 5 ms; (system + softirq) / user = (8 + 0.8) / 24 = 0.37, and 8 / 24 without softirq; the
# busiest worker's 16 MB at the last evaluation, "-" where the CSV has no bytes_sent.
expect "on 8 emulated hosts, topology random-regular:3 ("
expect "| gbit | aldsgd_matcha_atc | 80.0% | 5 | 5 | never | 10 | 500 | 80 | 40 | 10 | 0.50 | 5.0 | 16.0 | 32 | 50.0 | 5.0 | 0.37 | 4.0 / 6.0 |"
expect "| gbit | matcha_atc | 79.5% | 6 | 12 | never | 12 | 600 | 80 | 40 | 10 | 0.50 | 5.0 | 16.0 | 32 | 50.0 | - | 0.33 | 4.0 / 6.0 |"
expect "| lan | matcha_atc | 79.7% | 5 | 5 | never | 10 | 515 | 80 | 40 | 10 | 0.50 | 5.0 | - | 32 | 50.0 | - | 0.33 | 4.0 / 6.0 |"
expect "| gbit | 0.50 | aldsgd_matcha | matcha | atc | 2.40 (70.0%) | +0.5 pt | AL-DSGD ahead |"
expect "| lan | 0.50 | aldsgd_matcha | matcha | atc | 1.04 (70.0%) | +0.3 pt | not separable (one seed, differences small) |"
# tools/cluster_seeds.py over three made-up seeds of D-PSGD against AL-DSGD in slow: AL-DSGD's
# run takes 10 s in each (step 500 ms), D-PSGD's 12, 13, 14 s: ratios 1.2, 1.3, 1.4, geometric
# mean 1.297, log-scale t-interval [1.071, 1.571]. AL-DSGD reaches 60% at 5 s, D-PSGD at its
# last evaluation: 7, 8, 9 s later, [+5.5, +10.5]. D-PSGD reaches 70% in two seeds only, so 60%
# is the target. Final accuracy AL-DSGD - D-PSGD: +1, 0, -2 points, [-4.1, +3.5].
base_seconds=(12 13 14) base_final=(0.69 0.70 0.72)
for k in 0 1 2; do
  out_all="$out" out="$out/seed$((k + 1))"
  write_run slow aldsgd_dpsgd_atc 5 0.62 10 0.70
  write_run slow dpsgd_atc 6 0.50 "${base_seconds[k]}" "${base_final[k]}"
  out="$out_all"
done
python3 "$(dirname "$script")/cluster_seeds.py" "$out"/seed1 "$out"/seed2 "$out"/seed3 \
  --settings=slow --targets="0.6 0.7" >"$out/seeds.md" 2>&1 ||
  { echo "FAIL: cluster_seeds.py exited $?"; cat "$out/seeds.md"; fail=1; }
expect_seeds() {  # expect_seeds TEXT: a line of the seeds report holds TEXT
  if grep -qF -- "$1" "$out/seeds.md"; then echo "PASS: $1"; else echo "FAIL: no '$1'"; fail=1; fi
}
expect_seeds "| slow | aldsgd_dpsgd | dpsgd | atc | step-time ratio base/AL-DSGD | 3 | 1.20x, 1.30x, 1.40x | 1.30x | [1.07x, 1.57x] | AL-DSGD ahead |"
expect_seeds "| slow | aldsgd_dpsgd | dpsgd | atc | seconds to 60%, base - AL-DSGD | 3 | +7.0 s, +8.0 s, +9.0 s | +8.0 s | [+5.5 s, +10.5 s] | AL-DSGD ahead |"
expect_seeds "| slow | aldsgd_dpsgd | dpsgd | atc | final accuracy, AL-DSGD - base | 3 | +1.0 pt, +0.0 pt, -2.0 pt | -0.3 pt | [-4.1 pt, +3.5 pt] | not separable |"
# Directories without a pair of runs in the asked setting: an error naming them, not an empty table.
if message=$(python3 "$(dirname "$script")/cluster_seeds.py" "$out"/seed1 "$out"/seed2 \
               --settings=gbit --targets="0.6" 2>&1); then
  echo "FAIL: cluster_seeds.py without a pair exited 0"; fail=1
elif [[ "$message" == *"no pair of AL-DSGD and its base in $out/seed1 $out/seed2"* ]]; then
  echo "PASS: cluster_seeds.py without a pair: $message"
else
  echo "FAIL: cluster_seeds.py without a pair said '$message'"; fail=1
fi

for setting in gbit lan; do
  if [[ -s "$out/${setting}_accuracy_vs_train_seconds.png" ]] || ! command -v gnuplot >/dev/null; then
    echo "PASS: $setting plot (or no gnuplot here)"
  else
    echo "FAIL: no $setting plot"; cat "$out/printed.txt"; fail=1
  fi
done
exit $fail
