#!/bin/bash
# Training on several GPUs (--comm=nccl, one MPI rank per GPU): for each algorithm the GPU runs,
# the pipelined and the sequential step reach bitwise-identical parameters (each worker's
# checkpoint, byte for byte), as they do on the CPU (mpi_train_test.sh). Needs at least 2 CUDA
# GPUs and a --config=cuda build; anywhere else it says which is missing and passes without
# running (a GPU is the only place this can be checked).
set -euo pipefail
train="$1"
gpus=0
if command -v nvidia-smi >/dev/null 2>&1; then
  gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
fi
if ((gpus < 2)); then
  echo "SKIPPED: needs at least 2 CUDA GPUs, found $gpus"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$train" --comm=nccl --workers=1 --dataset=synthetic --model=resnet8 --steps=1 --quiet \
    >"$tmp/probe.log" 2>&1; then
  if grep -q -- "--config=cuda" "$tmp/probe.log"; then
    echo "SKIPPED: $(head -1 "$tmp/probe.log")"
    exit 0
  fi
  echo "FAIL: one GPU worker did not train:"
  cat "$tmp/probe.log"
  exit 1
fi
ranks=$((gpus < 4 ? gpus : 4))
common=(--dataset=synthetic --model=resnet8 --batch=16 --steps=12 --eval_every=1000
        --checkpoint_every=12 --quiet --timeout=60 --topology=complete --comm=nccl)
failed=0
for algo in allreduce dpsgd aldsgd; do
  for pipeline in true false; do
    mpirun --allow-run-as-root -np "$ranks" "$train" "${common[@]}" --algo="$algo" \
      --pipeline="$pipeline" --checkpoint_dir="$tmp/${algo}_$pipeline"
  done
  for ((worker = 0; worker < ranks; ++worker)); do
    a="$tmp/${algo}_true/worker-$worker/checkpoint-12.safetensors"
    b="$tmp/${algo}_false/worker-$worker/checkpoint-12.safetensors"
    if cmp -s "$a" "$b"; then
      echo "PASS: $algo worker $worker: pipelined and sequential GPU checkpoints are identical"
    else
      echo "FAIL: $algo worker $worker: pipelined and sequential GPU checkpoints differ"
      failed=1
    fi
  done
done
exit "$failed"
