#!/bin/bash
# tools/cpu_cost.py on a made-up run: ranks 0 and 1, steps 4 and 5 span 1000.000..1000.120 s
# (60 ms a step). Inside the window, a sample without rank 1 is skipped, so the span used is
# 1000.005..1000.105: 20 jiffies of 10 ms on 2 cores, each jiffy 10 ms x 0.060 / 0.100 = 6 ms
# per step. Then the sampler itself finds a process by its executable and OMPI rank.
set -euo pipefail
script="$1"
dir="${TEST_TMPDIR:-$(mktemp -d)}"
cat >"$dir/trace.json" <<'JSON'
{"traceEvents": [
{"ph":"X","name":"step","cat":"step","pid":0,"tid":0,"ts":999950000,"dur":50000,"args":{"step":3}},
{"ph":"X","name":"step","cat":"step","pid":0,"tid":0,"ts":1000000000,"dur":50000,"args":{"step":4}},
{"ph":"X","name":"step","cat":"step","pid":0,"tid":0,"ts":1000050000,"dur":50000,"args":{"step":5}},
{"ph":"X","name":"step","cat":"step","pid":1,"tid":0,"ts":1000020000,"dur":50000,"args":{"step":4}},
{"ph":"X","name":"step","cat":"step","pid":1,"tid":0,"ts":1000070000,"dur":50000,"args":{"step":5}},
{"ph":"X","name":"send","cat":"comm","pid":1,"tid":1,"ts":1000070000,"dur":5000,"args":{"bucket":0,"peer":0,"bytes":8,"kind":"scalars"}}
]}
JSON
# Fields: unix_seconds user nice system idle iowait irq softirq steal, then RANK:UTIME:STIME.
cat >"$dir/samples.txt" <<'EOF2'
# clk_tck=100 cores=2
999.990 100 0 10 50 0 0 5 0 0:1:1 1:1:1 self:1:0
1000.002 101 0 10 50 0 0 5 0 0:2:1 self:1:0
1000.005 102 0 11 50 0 0 5 0 0:2:1 1:3:1 self:1:0
1000.050 108 0 12 51 1 0 6 0 0:5:2 1:6:2 self:1:0
1000.105 114 0 14 52 1 0 7 0 0:7:2 1:9:3 self:2:0
1000.200 200 0 20 60 1 0 9 0 0:9:2 1:9:3 self:2:0
EOF2
line=$(python3 "$script" per_step "$dir/samples.txt" "$dir/trace.json" --from_step=4)
echo "$line"
#         period softirq system user nice irq iowait steal idle ranks_user ranks_system other self busy/cores
expected="60.0 12.0 18.0 72.0 0.0 0.0 6.0 0.0 12.0 66.0 18.0 18.0 6.0 51.0 0:30.0:6.0 1:36.0:12.0"
[[ $line == "$expected" ]] || { echo "FAIL: expected"; echo "$expected"; exit 1; }
# No sample holds every rank: refused, naming the window.
grep -v ' 1:' "$dir/samples.txt" >"$dir/one_rank.txt"
if message=$(python3 "$script" per_step "$dir/one_rank.txt" "$dir/trace.json" 2>&1); then
  echo "FAIL: a window without rank 1 was accepted"; exit 1
fi
[[ $message == *"fewer than two samples with every rank (2)"* ]] || { echo "FAIL: $message"; exit 1; }
# A malformed sample is named, with its line.
printf '# clk_tck=100 cores=2\n1000.0 1 2\n' >"$dir/bad.txt"
if message=$(python3 "$script" per_step "$dir/bad.txt" "$dir/trace.json" 2>&1); then
  echo "FAIL: a malformed samples file was accepted"; exit 1
fi
[[ $message == *"bad.txt:2: expected 'unix_seconds user"* ]] || { echo "FAIL: $message"; exit 1; }

# The sampler: a process running `sleep` with OMPI_COMM_WORLD_RANK=3 is rank 3.
OMPI_COMM_WORLD_RANK=3 sleep 30 &
sleeper=$!
python3 "$script" sample --out="$dir/live.txt" --exe="$(command -v sleep)" --ranks=1 \
  --interval_ms=10 &
sampler=$!
# TERM only once the sampler has sampled rank 3 (its handler is installed by then): a fixed
# sleep killed a sampler still starting on a loaded machine, before it could catch the signal.
for _ in $(seq 1 600); do
  grep -Eq ' 3:[0-9]+:[0-9]+ ' "$dir/live.txt" 2>/dev/null && break
  sleep 0.05
done
kill -TERM "$sampler"
wait "$sampler"
kill "$sleeper"
head -1 "$dir/live.txt" | grep -Eq '^# clk_tck=[0-9]+ cores=[0-9]+$' ||
  { echo "FAIL: no units line"; cat "$dir/live.txt"; exit 1; }
grep -Eq '^[0-9.]+( [0-9]+){8} 3:[0-9]+:[0-9]+ self:[0-9]+:[0-9]+$' "$dir/live.txt" ||
  { echo "FAIL: rank 3 was not sampled"; cat "$dir/live.txt"; exit 1; }
echo PASS
