#!/bin/bash
# Same seed, same synchronous algorithm: 4 MPI ranks (pipelined and sequential) and 4
# in-process workers reach bitwise-identical parameters (each worker's checkpoint, byte for
# byte), as the README's plain commands run them: no OpenMP variables exported, the trainer
# gives each worker the same thread count in both modes (this host's cores / its workers), since
# oneDNN's reductions associate differently with more threads.
# Every synchronous algorithm: the all-reduce based ones too, because both communicators sum in
# rank order by default (CommOptions::reproducible_sums). With --wire=bf16 too: both
# communicators round through comm/wire_format.h, and EASGD's bf16 mean adds in rank order.
set -euo pipefail
train="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset OMP_NUM_THREADS OMP_THREAD_LIMIT
base=(--dataset=synthetic --model=resnet8 --batch=16 --eval_every=1000 --timeout=30)
common=("${base[@]}" --steps=12 --checkpoint_every=12 --quiet)
failed=0
compare() {  # compare ALGO RUN_A RUN_B WHAT
  local algo="$1" a_run="$2" b_run="$3" what="$4" worker
  for worker in 0 1 2 3; do
    a="$tmp/${a_run}_$algo/worker-$worker/checkpoint-12.safetensors"
    b="$tmp/${b_run}_$algo/worker-$worker/checkpoint-12.safetensors"
    if cmp -s "$a" "$b"; then
      echo "PASS: $algo worker $worker: $what checkpoints are identical"
    else
      echo "FAIL: $algo worker $worker: $what checkpoints differ ($(cmp "$a" "$b" 2>&1 | head -1))"
      failed=1
    fi
  done
}
mpirun_np() {  # mpirun_np RANKS PROGRAM ARGS...
  local ranks="$1"; shift
  mpirun --allow-run-as-root --oversubscribe -np "$ranks" --mca btl self,vader,tcp "$@"
}
mpirun4() { mpirun_np 4 "$@"; }
mpi() { mpirun4 "$train" "${common[@]}" --comm=mpi "$@"; }
# Both modes say the same thread count at start.
"$train" "${base[@]}" --steps=1 --workers=4 > "$tmp/inproc.out"
mpirun4 "$train" "${base[@]}" --steps=1 --comm=mpi > "$tmp/mpi.out"
inproc_threads=$(grep -m1 '^OpenMP threads per worker' "$tmp/inproc.out" || echo none)
mpi_threads=$(grep -m1 '^OpenMP threads per worker' "$tmp/mpi.out" || echo none)
if [[ "$inproc_threads" == "$mpi_threads" && "$inproc_threads" == OpenMP* ]]; then
  echo "PASS: both modes print '$inproc_threads'"
else
  echo "FAIL: in-process '$inproc_threads', MPI '$mpi_threads'"
  failed=1
fi
# The summary names the workers that trained: the MPI size, not the --workers default (4).
mpirun_np 2 "$train" "${base[@]}" --steps=1 --comm=mpi --quiet --summary_json="$tmp/mpi2.json"
if grep -q '"workers": *2,' "$tmp/mpi2.json" && grep -q '"algo": *"aldsgd"' "$tmp/mpi2.json"; then
  echo "PASS: 2 MPI ranks: the summary says 2 workers running aldsgd"
else
  echo "FAIL: 2 MPI ranks: summary $(tr -d '\n' < "$tmp/mpi2.json")"; failed=1
fi
# ALGO[:COMBINE[:WIRE]] (adapt-with-combine posts the whole model as the step begins).
for run in dpsgd matcha aldsgd allreduce easgd lsgd dpsgd:awc aldsgd:awc \
           dpsgd:atc:bf16 aldsgd:atc:bf16 aldsgd:awc:bf16 easgd:atc:bf16 lsgd:atc:bf16 \
           dpsgd:atc:bf16-nearest; do
  IFS=: read -r algo combine wire <<< "$run"
  flags=(--algo="$algo" --combine="${combine:-atc}" --wire="${wire:-fp32}")
  "$train" "${common[@]}" --workers=4 "${flags[@]}" --checkpoint_dir="$tmp/inproc_$run"
  # Pipelined with 3 buckets of ~100 KB: above the MPI send-lane threshold (64 KiB), so the
  # priority queue and the deferred combine both run; sequential: everything after backward.
  mpi "${flags[@]}" --min_buckets=3 --checkpoint_dir="$tmp/mpi_$run"
  mpi "${flags[@]}" --pipeline=false --checkpoint_dir="$tmp/mpiseq_$run"
  compare "$run" inproc mpi "inproc and MPI (pipelined)"
  compare "$run" mpi mpiseq "MPI pipelined and MPI sequential"
done
# A fixed split (--partition) is computed by every rank alone from the seed: the MPI ranks train
# on the same examples as the in-process workers (identical checkpoints, identical label
# histograms in the metrics), and on other examples than the reshuffled default.
for split in dirichlet:0.3 shards:2; do
  run="aldsgd_${split%%:*}"
  "$train" "${common[@]}" --workers=4 --algo=aldsgd --partition="$split" \
    --checkpoint_dir="$tmp/inproc_$run" --metrics="$tmp/inproc_$run.csv"
  mpi --algo=aldsgd --partition="$split" --checkpoint_dir="$tmp/mpi_$run" \
    --metrics="$tmp/mpi_$run.csv"
  compare "$run" inproc mpi "--partition=$split: inproc and MPI"
  # Column 14: label_histogram.
  if [[ "$(cut -d, -f14 "$tmp/inproc_$run.csv")" == "$(cut -d, -f14 "$tmp/mpi_$run.csv")" ]]; then
    echo "PASS: --partition=$split: the same label histograms in process and under MPI"
  else
    echo "FAIL: --partition=$split: label histograms differ"; failed=1
  fi
  if cmp -s "$tmp/inproc_$run/worker-0/checkpoint-12.safetensors" \
            "$tmp/inproc_aldsgd/worker-0/checkpoint-12.safetensors"; then
    echo "FAIL: --partition=$split trained on the reshuffled default's data"; failed=1
  fi
done
exit "$failed"
