#!/bin/bash
# Rank 2 of 4 SIGKILLs itself in the middle of an all-to-all exchange.
#  1. Under `mpirun --enable-recovery` the survivors keep running: each must exit non-zero with a
#     message naming rank 2 within the communicator timeout + 5 s.
#  2. Under plain mpirun (OpenMPI's default), mpirun itself kills the job and names rank 2.
set -uo pipefail
worker="$1"
timeout_s=3
mpirun_flags=(--allow-run-as-root --oversubscribe -np 4 --mca btl self,vader,tcp)
work="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

echo "== 1. mpirun --enable-recovery: the survivors report the dead rank"
results="$work/results"
mkdir -p "$results"
start=$(date +%s.%N)
timeout 60 mpirun "${mpirun_flags[@]}" --enable-recovery "$worker" --scenario=fault \
  --timeout="$timeout_s" --victim=2 --result_dir="$results" >"$work/recovery.log" 2>&1
echo "mpirun exited with $? after $(echo "$(date +%s.%N) - $start" | bc) s (OpenMPI 4.1 returns 0 here)"
grep '^rank ' "$work/recovery.log"
for rank in 0 1 3; do
  line=$(grep "^rank $rank: step" "$work/recovery.log")
  [[ "$line" == *"rank 2"* ]] || fail "rank $rank did not name rank 2: '$line'"
  seconds=$(sed -n 's/.* failed after \([0-9.]*\)s.*/\1/p' <<<"$line")
  [[ -n "$seconds" ]] && (( $(echo "$seconds <= $timeout_s + 5" | bc) )) ||
    fail "rank $rank took '$seconds' s to fail (limit $((timeout_s + 5)) s)"
  code=$(cat "$results/rank.$rank" 2>/dev/null)
  [[ -n "$code" && "$code" != 0 ]] || fail "rank $rank exit status '$code', want non-zero"
done

echo "== 2. plain mpirun: the job is aborted and mpirun names the dead rank"
start=$(date +%s.%N)
timeout 60 mpirun "${mpirun_flags[@]}" "$worker" --scenario=fault --timeout="$timeout_s" \
  --victim=2 >"$work/default.log" 2>&1
code=$?
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
echo "mpirun exited with $code after $elapsed s"
grep -E 'rank|signal' "$work/default.log"
[[ $code != 0 && $code != 124 ]] || fail "plain mpirun exited with $code, want non-zero (and no hang)"
grep -q 'process rank 2 .* signal 9' "$work/default.log" || fail "mpirun did not name rank 2"

echo "$failures failure(s)"
[[ $failures == 0 ]]
