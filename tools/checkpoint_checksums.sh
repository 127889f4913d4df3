#!/bin/bash
# The safety net of a refactor: trains fixed-seed runs of every algorithm (both combine orders,
# both AL-DSGD forms, pipelined and sequential, one worker, ResNet-8 with momentum, and the
# default run) for 12 steps each and prints the sha256 of every checkpoint file. The same
# binary behaviour gives the same lines; compare a run before a change with one after it:
#
#   tools/checkpoint_checksums.sh bazel-bin/tools/train > before.txt   # (copy the binary first)
#   ... change, rebuild ...
#   tools/checkpoint_checksums.sh bazel-bin/tools/train > after.txt
#   diff before.txt after.txt && echo identical
#
# About 4 minutes on 2 cores. A run that fails prints "NAME FAILED" and its last lines.
set -uo pipefail
if [[ $# -ne 1 || ! -x $1 ]]; then
  echo "usage: $0 PATH_TO_TRAIN_BINARY" >&2
  exit 2
fi
bin=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
common=(--seed=11 --steps=12 --checkpoint_every=12 --eval_every=12 --quiet --timeout=120)
run() {
  local name=$1
  shift
  if ! "$bin" "${common[@]}" --checkpoint_dir="$scratch/$name" "$@" > "$scratch/$name.log" 2>&1; then
    echo "$name FAILED"
    tail -3 "$scratch/$name.log"
    return
  fi
  (cd "$scratch/$name" && find . -type f ! -name '*.tmp*' | sort | xargs sha256sum) | sed "s|^|$name |"
}
lenet=(--model=lenet5 --batch=32 --workers=4)
run default
run allreduce "${lenet[@]}" --algo=allreduce
run dpsgd "${lenet[@]}" --algo=dpsgd --topology=ring
run matcha "${lenet[@]}" --algo=matcha --topology=ring
run aldsgd "${lenet[@]}" --algo=aldsgd
run aldsgd_base_dpsgd "${lenet[@]}" --algo=aldsgd --base=dpsgd
run aldsgd_paper "${lenet[@]}" --algo=aldsgd --aldsgd_form=paper
run aldsgd_awc "${lenet[@]}" --algo=aldsgd --combine=awc --lr=0.02
run dpsgd_awc "${lenet[@]}" --algo=dpsgd --topology=ring --combine=awc --lr=0.02
run easgd "${lenet[@]}" --algo=easgd --tau=2
run lsgd "${lenet[@]}" --algo=lsgd --tau=2
run dpsgd_seq "${lenet[@]}" --algo=dpsgd --topology=ring --pipeline=false
run aldsgd_seq "${lenet[@]}" --algo=aldsgd --pipeline=false
run aldsgd_paper_seq "${lenet[@]}" --algo=aldsgd --aldsgd_form=paper --pipeline=false
run single --model=lenet5 --batch=32 --workers=1
run resnet8_aldsgd --model=resnet8 --batch=16 --workers=4 --algo=aldsgd --momentum=0.9 \
  --weight_decay=5e-4
