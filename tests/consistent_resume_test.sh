#!/bin/bash
# A resume after a crash starts every worker from the newest step for which all of them have a
# complete checkpoint, says so, removes the temporaries the crash left, and continues the same
# trajectory bit for bit. The crash is simulated on disk: workers 2 and 3 lost their step-3
# checkpoint (their `latest` still names step 2) and left a half-written temporary.
set -euo pipefail
train="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GOMP_SPINCOUNT=10000
common=(--dataset=synthetic --model=resnet8 --workers=4 --batch=16 --algo=dpsgd --steps=3
        --checkpoint_every=1 --eval_every=1000 --timeout=30)
fail() { echo "FAIL: $*"; exit 1; }

"$train" "${common[@]}" --quiet --checkpoint_dir="$tmp/whole"
cp -r "$tmp/whole" "$tmp/crashed"
for worker in 2 3; do
  dir="$tmp/crashed/worker-$worker"
  rm "$dir/checkpoint-3.safetensors"
  echo "checkpoint-2.safetensors" > "$dir/latest"
  head -c 1000 "$tmp/whole/worker-$worker/checkpoint-3.safetensors" \
    > "$dir/checkpoint-3.safetensors.tmp-99999999"  # no process has this pid (pid_max <= 2^22)
done
"$train" "${common[@]}" --resume --checkpoint_dir="$tmp/crashed" > "$tmp/out" 2>&1 ||
  fail "resume exited $?: $(tail -3 "$tmp/out")"
grep -q "resumed from step 2, the newest with a complete checkpoint on every worker" "$tmp/out" ||
  fail "no 'resumed from step 2' line: $(cat "$tmp/out")"
echo "PASS: $(grep 'resumed from' "$tmp/out")"
for worker in 0 1 2 3; do
  [[ -z $(find "$tmp/crashed/worker-$worker" -name '*.tmp-*') ]] ||
    fail "worker $worker: stale temporaries left: $(ls "$tmp/crashed/worker-$worker")"
  cmp "$tmp/whole/worker-$worker/checkpoint-3.safetensors" \
      "$tmp/crashed/worker-$worker/checkpoint-3.safetensors" ||
    fail "worker $worker: the resumed step 3 differs from the uninterrupted run's"
done
echo "PASS: every worker's step 3 after the resume equals the uninterrupted run's, no temporaries"

# No step common to all: refused (exit 2), naming the worker, not silently started apart.
for worker in 0 1; do rm "$tmp/crashed/worker-$worker"/checkpoint-{1,2}.safetensors; done
for worker in 2 3; do rm "$tmp/crashed/worker-$worker/checkpoint-3.safetensors"; done
for worker in 2 3; do echo "checkpoint-2.safetensors" > "$tmp/crashed/worker-$worker/latest"; done
code=0
"$train" "${common[@]}" --quiet --resume --checkpoint_dir="$tmp/crashed" 2> "$tmp/err" || code=$?
[[ $code == 2 ]] || fail "no common step: exit $code, want 2: $(cat "$tmp/err")"
grep -q "no step has a complete checkpoint on every worker" "$tmp/err" || fail "$(cat "$tmp/err")"
echo "PASS: $(cat "$tmp/err")"
