#!/bin/bash
# The example's binary trains its own model through the trainer library: a few steps on two
# in-process workers, ending with the final line and a checkpoint per worker.
set -euo pipefail
train="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GOMP_SPINCOUNT=10000
out=$("$train" --model=my_cnn --dataset=synthetic --workers=2 --steps=5 --eval_every=5 \
  --checkpoint_dir="$tmp/ckpt" 2>&1) || { echo "$out"; echo "FAIL: training my_cnn failed"; exit 1; }
echo "$out"
grep -q "^training my_cnn on synthetic: 2 in-process workers" <<<"$out" ||
  { echo "FAIL: no 'training my_cnn' line"; exit 1; }
grep -q "^final: .* 5 steps" <<<"$out" || { echo "FAIL: no final line after 5 steps"; exit 1; }
for worker in 0 1; do
  [[ -s "$tmp/ckpt/worker-$worker/checkpoint-5.safetensors" ]] ||
    { echo "FAIL: worker $worker wrote no checkpoint"; exit 1; }
done
# The built-in models are still there beside it.
"$train" --model=no_such_model --dataset=synthetic --workers=1 --steps=1 --quiet 2>"$tmp/err" &&
  { echo "FAIL: an unknown model trained"; exit 1; }
grep -q "known models: .*lenet5.*my_cnn.*resnet20" "$tmp/err" ||
  { cat "$tmp/err"; echo "FAIL: the error does not list lenet5, my_cnn and resnet20"; exit 1; }
echo "PASS"
