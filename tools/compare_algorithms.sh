#!/usr/bin/env bash
# The convergence comparison of DESIGN.md / issue 6: 8 workers on Fashion-MNIST (real data),
# over matcha8 (degrees 1..5, the authors' graph) and the 8-ring, MATCHA budget 0.5, batch 16
# per worker, no momentum, weight decay 5e-4, one learning rate tuned on D-PSGD and reused for
# all, the step schedule (x0.1 at 50% and 75%), the same seed everywhere. Runs all-reduce SGD,
# D-PSGD, MATCHA, AL-DSGD over D-PSGD and over MATCHA, and AL-DSGD ablations (no weighting,
# no pull, K = 1); writes results.csv, results.md and PNG plots into OUT.
#
#   tools/compare_algorithms.sh [--model=lenet5] [--epochs=3] [--out=DIR] [--lrs="0.05 0.1 0.2 0.4"]
#       [--eval_every=STEPS] [--ablation_topologies="matcha8 ring"] [--extra="FLAGS"]
#
# --eval_every evaluates more often than once per epoch (each evaluation runs 9 models over the
# test set, so it costs wall time). --extra passes training flags to every run, the tuning
# included (e.g. --extra="--partition=fixed --graphs=2 --pad=2 --augment"). Uses the binary
# bazel builds with -c opt, copied into OUT first so that rebuilding during an hour-long
# comparison cannot change it half-way.
#
# --study (issue 16) instead runs the paired comparisons that decide the AL-DSGD paper's claims,
# every variant once per seed, with the first of --lrs (no tuning), and prints each pairing's mean
# difference with a 95% t-interval over the seeds (tools/aldsgd_study.py):
#
#   tools/compare_algorithms.sh --study --seeds="1 2 3 4 5" [--steps=N] [--model=...] ...
#       [--variants="m8_aldsgd_k2 m8_matcha_k2"]
#
# --variants runs only the named variants (a pairing whose two sides both ran is reported; the
# others are left out), for a study whose whole would not fit the machine.
set -euo pipefail
model=lenet5 epochs=3 out=comparison lrs="0.05 0.1 0.2 0.4" seed=1 eval_every=0
ablation_topologies="matcha8 ring" extra="" study=false seeds="1 2 3 4 5" steps=0 variants=""
for arg in "$@"; do
  case "$arg" in
    --model=*) model="${arg#*=}" ;;
    --epochs=*) epochs="${arg#*=}" ;;
    --out=*) out="${arg#*=}" ;;
    --lrs=*) lrs="${arg#*=}" ;;
    --seed=*) seed="${arg#*=}" ;;
    --eval_every=*) eval_every="${arg#*=}" ;;
    --ablation_topologies=*) ablation_topologies="${arg#*=}" ;;
    --extra=*) extra="${arg#*=}" ;;
    --study) study=true ;;
    --seeds=*) seeds="${arg#*=}" ;;
    --steps=*) steps="${arg#*=}" ;;
    --variants=*) variants="${arg#*=}" ;;
    *) echo "compare_algorithms: unknown argument $arg" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
bazel build -c opt //tools:train >/dev/null
mkdir -p "$out/runs"
train="$out/train"
cp -f "$(bazel info -c opt bazel-bin 2>/dev/null)/tools/train" "$train"

# shellcheck disable=SC2206  # --extra is a list of flags, split on spaces on purpose
common=(--model="$model" --dataset=fashion_mnist --workers=8 --batch=16 --momentum=0
        --weight_decay=5e-4 --lr_schedule=step --epochs="$epochs" --seed="$seed" --budget=0.5
        --eval_every="$eval_every" --steps="$steps" --quiet $extra)

run() {  # run NAME TOPOLOGY FLAGS... (an empty TOPOLOGY: FLAGS name it)
  local name="$1" topology="$2"
  shift 2
  if [[ -f "$out/runs/$name.json" ]]; then echo "  $name: done before"; return; fi
  echo "  $name${topology:+ ($topology)}: $*"
  "$train" "${common[@]}" ${topology:+--topology="$topology"} "$@" \
    --metrics="$out/runs/$name.csv" --summary_json="$out/runs/$name.json"
}

if $study; then
  # Each pairing compares two variants trained on the same seed (the same data order and x_0);
  # aldsgd_study.py reads the pairs from runs/PAIRINGS. matcha8 uses AL-DSGD's default base,
  # MATCHA; the sparsest pair (matcha8-sparse:5, connected only as K = 2 copies) needs the
  # static scheme, so its base is D-PSGD, and so is matcha8's for the sparsity claim.
  lr="${lrs%% *}"
  declare -A variant=(
    [m8_aldsgd_k2]="--topology=matcha8 --algo=aldsgd --base=matcha --graphs=2"
    [m8_matcha_k2]="--topology=matcha8 --algo=matcha --graphs=2"
    [m8_aldsgd_k1]="--topology=matcha8 --algo=aldsgd --base=matcha --graphs=1"
    [m8_matcha_k1]="--topology=matcha8 --algo=matcha --graphs=1"
    [m8_aldsgd_alternate]="--topology=matcha8 --algo=aldsgd --base=dpsgd --dpsgd_schedule=alternate --graphs=2"
    [m8_dpsgd_alternate]="--topology=matcha8 --algo=dpsgd --dpsgd_schedule=alternate --graphs=2"
    [m8_aldsgd_unsynced]="--topology=matcha8 --algo=aldsgd --base=matcha --graphs=2 --sync_init=false"
    [m8_aldsgd_fixed]="--topology=matcha8 --algo=aldsgd --base=matcha --graphs=2 --partition=fixed"
    [m8_aldsgd_dirichlet]="--topology=matcha8 --algo=aldsgd --base=matcha --graphs=2 --partition=dirichlet:0.1"
    [m8_matcha_dirichlet]="--topology=matcha8 --algo=matcha --graphs=2 --partition=dirichlet:0.1"
    [m8_aldsgd_paper]="--topology=matcha8 --algo=aldsgd --base=matcha --graphs=2 --aldsgd_form=paper"
    [m8_aldsgd_dpsgd_k2]="--topology=matcha8 --algo=aldsgd --base=dpsgd --graphs=2"
    [m8_dpsgd_k2]="--topology=matcha8 --algo=dpsgd --graphs=2"
    [sp5_aldsgd_dpsgd_k2]="--topology=matcha8-sparse:5 --algo=aldsgd --base=dpsgd --graphs=2"
    [sp5_dpsgd_k2]="--topology=matcha8-sparse:5 --algo=dpsgd --graphs=2"
  )
  # NAME A B: the difference A - B, seed by seed.
  cat > "$out/runs/PAIRINGS" <<'PAIRS'
aldsgd_vs_base_k2 m8_aldsgd_k2 m8_matcha_k2
aldsgd_vs_base_k1 m8_aldsgd_k1 m8_matcha_k1
aldsgd_vs_alternating_dpsgd m8_aldsgd_alternate m8_dpsgd_alternate
unsynced_vs_synced_init m8_aldsgd_unsynced m8_aldsgd_k2
fixed_vs_dirichlet0.1 m8_aldsgd_fixed m8_aldsgd_dirichlet
aldsgd_vs_base_dirichlet0.1 m8_aldsgd_dirichlet m8_matcha_dirichlet
paper_vs_code_form m8_aldsgd_paper m8_aldsgd_k2
aldsgd_dpsgd_vs_dpsgd_k2 m8_aldsgd_dpsgd_k2 m8_dpsgd_k2
sparse5_aldsgd_dpsgd_vs_dpsgd_k2 sp5_aldsgd_dpsgd_k2 sp5_dpsgd_k2
PAIRS
  chosen="$(printf '%s\n' "${!variant[@]}" | sort)"
  if [[ -n "$variants" ]]; then
    for name in $variants; do
      [[ -n "${variant[$name]:-}" ]] ||
        { echo "compare_algorithms: --variants: no variant $name (choices: $(echo $chosen))" >&2
          exit 2; }
    done
    chosen="$variants"
  fi
  echo "study: $(echo "$chosen" | wc -w) variants x seeds $seeds, lr $lr, $model," \
       "extra flags: ${extra:-none}"
  start=$(date +%s)
  for s in $seeds; do
    for name in $chosen; do
      # shellcheck disable=SC2086  # a variant is a list of flags
      run "${name}_seed$s" "" ${variant[$name]} --lr="$lr" --seed="$s" ||
        echo "  ${name}_seed$s failed: its pairs leave this seed out"
    done
  done
  echo "study: $(( $(date +%s) - start )) s of wall time for the runs not done before"
  python3 tools/aldsgd_study.py "$out"
  exit 0
fi

# 1. The learning rate, tuned on D-PSGD over matcha8 for one epoch (the authors tuned on D-PSGD
#    and reused the value for every algorithm).
echo "tuning the learning rate on D-PSGD / matcha8: $lrs"
best_lr="" best_acc=-1
for lr in $lrs; do
  name="tune_dpsgd_lr$lr"
  if [[ ! -f "$out/runs/$name.json" ]] &&
     ! "$train" "${common[@]}" --epochs=1 --eval_every=0 --topology=matcha8 --algo=dpsgd \
         --lr="$lr" --summary_json="$out/runs/$name.json"; then
    echo '{"test_accuracy": 0, "diverged": true}' > "$out/runs/$name.json"  # e.g. NaN loss
  fi
  acc=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['test_accuracy'])" \
    "$out/runs/$name.json")
  echo "  lr $lr: test accuracy $acc"
  if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" \
    "$acc" "$best_acc"; then best_lr="$lr" best_acc="$acc"; fi
done
echo "learning rate: $best_lr"

# 2. Every algorithm on both graphs with that learning rate.
for topology in matcha8 ring; do
  echo "topology $topology"
  run "${topology}_allreduce" "$topology" --algo=allreduce --lr="$best_lr"
  run "${topology}_dpsgd" "$topology" --algo=dpsgd --lr="$best_lr"
  run "${topology}_matcha" "$topology" --algo=matcha --lr="$best_lr"
  run "${topology}_aldsgd_dpsgd" "$topology" --algo=aldsgd --base=dpsgd --lr="$best_lr"
  run "${topology}_aldsgd_matcha" "$topology" --algo=aldsgd --base=matcha --lr="$best_lr"
  [[ " $ablation_topologies " == *" $topology "* ]] || continue
  run "${topology}_aldsgd_no_weighting" "$topology" --algo=aldsgd --base=matcha --c1=0 --c2=0 \
    --lr="$best_lr"
  run "${topology}_aldsgd_no_pull" "$topology" --algo=aldsgd --base=matcha --p1=0 --p2=0 \
    --lr="$best_lr"
  run "${topology}_aldsgd_k1" "$topology" --algo=aldsgd --base=matcha --graphs=1 --lr="$best_lr"
done

python3 tools/compare_algorithms.py "$out" "$best_lr"
