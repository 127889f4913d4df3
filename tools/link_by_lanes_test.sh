#!/bin/bash
# tools/link_by_lanes.py on a made-up run: rank 0's steps 4 and 5 span 10 ms; lane (0, 1) sends
# through all of it, lane (1, 0) through the first half; a small send (the loss message) and a
# step-3 send do not count. The link carries 1000 bytes/ms, then 500: at 1 MB/s, 100% then 50%.
set -euo pipefail
script="$1"
dir="${TEST_TMPDIR:-$(mktemp -d)}"
cat >"$dir/trace.json" <<'JSON'
{"traceEvents": [
{"ph":"X","name":"step","cat":"step","pid":0,"tid":0,"ts":1000000000,"dur":5000,"args":{"step":4}},
{"ph":"X","name":"step","cat":"step","pid":0,"tid":0,"ts":1000005000,"dur":5000,"args":{"step":5}},
{"ph":"X","name":"step","cat":"step","pid":0,"tid":0,"ts":999995000,"dur":5000,"args":{"step":3}},
{"ph":"X","name":"send","cat":"comm","pid":0,"tid":1,"ts":1000000000,"dur":10000,"args":{"bucket":1,"peer":1,"bytes":147456,"kind":"model"}},
{"ph":"X","name":"send","cat":"comm","pid":1,"tid":1,"ts":1000000000,"dur":5000,"args":{"bucket":1,"peer":0,"bytes":147456,"kind":"model"}},
{"ph":"X","name":"send","cat":"comm","pid":1,"tid":2,"ts":1000005000,"dur":5000,"args":{"bucket":0,"peer":0,"bytes":8,"kind":"scalars"}},
{"ph":"X","name":"send","cat":"comm","pid":2,"tid":1,"ts":999990000,"dur":9000,"args":{"bucket":1,"peer":0,"bytes":147456,"kind":"model"}}
]}
JSON
python3 - "$dir/samples.txt" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    sent = 0
    for ms in range(-2, 13):
        out.write("%.6f %d\n" % (1000 + ms / 1000, sent))
        sent += 1000 if ms < 5 else 500
PY
table=$(python3 "$script" "$dir/trace.json" "$dir/samples.txt" 1000000)
echo "$table"
expected="busy send lanes | share of time | link use (window: rank 0's steps 4.., 10 ms)
--- | --- | ---
1 | 50.0% | 50%
2 | 50.0% | 100%"
[[ $table == "$expected" ]] || { echo "FAIL: expected"; echo "$expected"; exit 1; }
table=$(python3 "$script" "$dir/trace.json" "$dir/samples.txt" 1000000 --summary="$dir/summary")
[[ $table == "$expected" ]] || { echo "FAIL: --summary changed the table"; exit 1; }
summary=$(<"$dir/summary")
[[ $summary == "2 50% 100% 50% 50%" ]] || { echo "FAIL: --summary wrote '$summary'"; exit 1; }
# A malformed samples file is named, with its line.
echo "1000.0" >"$dir/bad.txt"
if message=$(python3 "$script" "$dir/trace.json" "$dir/bad.txt" 1000000 2>&1); then
  echo "FAIL: a malformed samples file was accepted"; exit 1
fi
[[ $message == *"bad.txt:1: expected 'unix_seconds tx_bytes'"* ]] || { echo "FAIL: $message"; exit 1; }
echo PASS
