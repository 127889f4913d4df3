#!/bin/bash
# tools/aldsgd_study.py on made-up runs whose differences are known: the t-interval's bounds
# (t(2) = 4.303 for three seeds), the verdicts (ahead / not separable) and the claim table.
set -euo pipefail
study="$1"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/runs"
# A run: two evaluations (epochs 0.5 and 1), 8 workers all at the same accuracy.
write_run() {  # write_run NAME EARLY FINAL
  python3 - "$out/runs/$1" "$2" "$3" <<'PY'
import json, sys
path, early, final = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
json.dump({"steps": 20, "epochs": 1}, open(path + ".json", "w"))
with open(path + ".csv", "w") as f:
    f.write("epoch,step,worker,train_loss,test_accuracy,average_model_accuracy,wall_seconds,"
            "train_seconds\n")
    for step, acc in ((10, early), (20, final)):
        for w in range(8):
            f.write("1,%d,%d,0.5,%.6f,%.6f,1,1\n" % (step, w, acc, acc))
PY
}
printf 'aldsgd_vs_base_k2 a b\nnoise c d\n' > "$out/runs/PAIRINGS"
# a - b: final +1.0, +1.2, +0.8 points (mean 1.0, sd 0.2: interval 1.0 +- 4.303 * 0.2 / sqrt 3).
# c - d: final +1, -1, 0 points: not separable.
for seed in 1 2 3; do
  final_b=(0 0.80 0.81 0.82); early=(0 0.5 0.5 0.5)
  write_run "b_seed$seed" 0.5 "${final_b[$seed]}"
  gain=(0 0.010 0.012 0.008)
  write_run "a_seed$seed" 0.5 "$(python3 -c "print(${final_b[$seed]} + ${gain[$seed]})")"
  noise=(0 0.01 -0.01 0)
  write_run "d_seed$seed" 0.6 0.8
  write_run "c_seed$seed" 0.6 "$(python3 -c "print(0.8 + ${noise[$seed]})")"
done
python3 "$study" "$out" > "$out/printed.txt"
fail=0
expect() {  # expect TEXT
  if grep -qF -- "$1" "$out/study.md"; then echo "PASS: $1"; else echo "FAIL: no '$1'"; fail=1; fi
}
expect "| aldsgd_vs_base_k2 (a vs b) | final accuracy | 3 | +1.00 | [+0.50, +1.50] | A ahead |"
expect "| noise (c vs d) | final accuracy | 3 | +0.00 | [-2.48, +2.48] | not separable |"
expect "| aldsgd_vs_base_k2 (a vs b) | early accuracy (mean before the first decay) | 3 | +0.00 |"
expect "| at least as accurate at the end (matcha8, K = 2 for both) | holds | +1.00 [+0.50, +1.50]"
expect "| faster early against the authors' alternating D-PSGD | no runs | |"
exit $fail
