#!/bin/bash
# Under --config=tsan: the planted race of tsan_canary.cc must be reported, naming its file.
# In other configurations there is nothing to check, and the test says so.
# Usage: tsan_canary_test.sh PATH_TO_tsan_canary BUILD_MODE(tsan|plain)
set -uo pipefail
canary=$1 mode=$2
if [[ $mode != tsan ]]; then
  echo "SKIP: not a --config=tsan build; this test checks that ThreadSanitizer reports a planted race"
  exit 0
fi
out=$(TSAN_OPTIONS="halt_on_error=1:exitcode=66" "$canary" 2>&1)
code=$?
if [[ $code == 66 ]] && grep -q "WARNING: ThreadSanitizer: data race" <<<"$out" &&
  grep -q "tsan_canary.cc" <<<"$out"; then
  echo "PASS: ThreadSanitizer reported the planted race (exit $code)"
  exit 0
fi
echo "$out" | tail -30
echo "FAIL: the planted race was not reported (exit $code); TSan is not watching our code"
exit 1
