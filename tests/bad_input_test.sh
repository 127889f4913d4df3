#!/bin/bash
# The exit-status rule from the command line: every class of bad input (flags, data files,
# checkpoints, topology files) exits 2 with a message naming the flag or file and what was
# expected; none crashes or exits 1. (tools/trainer/exit_status.h has the rule; a peer's failure,
# 3, is checked by tests/mpi_fault_test.sh.)
set -uo pipefail
train="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GOMP_SPINCOUNT=10000
failed=0

# A tiny Fashion-MNIST in the real format: 64 training and 16 test images of SIDE x SIDE.
make_fashion() {  # make_fashion DIR TRAIN_SIDE TEST_SIDE
  python3 - "$@" <<'PY'
import gzip, os, struct, sys
out, train_side, test_side = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out, exist_ok=True)
for prefix, count, side in (("train", 64, train_side), ("t10k", 16, test_side)):
    pixels = bytes((7 * i) % 256 for i in range(count * side * side))
    with gzip.open(f"{out}/{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, side, side) + pixels)
    with gzip.open(f"{out}/{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">II", 0x801, count) + bytes(i % 10 for i in range(count)))
PY
}
good="$tmp/good"
make_fashion "$good" 28 28
common=(--model=lenet5 --workers=1 --batch=32 --steps=1 --quiet --timeout=20)

# expect_bad_input NAME TEXT... -- FLAGS: exit status 2 and each TEXT in the message.
expect_bad_input() {
  local name="$1"; shift
  local texts=()
  while [[ "$1" != "--" ]]; do texts+=("$1"); shift; done
  shift
  local err="$tmp/$name.err" code
  "$train" "${common[@]}" "$@" > /dev/null 2> "$err"
  code=$?
  if [[ $code != 2 ]]; then
    echo "FAIL: $name: exit status $code, want 2: $(tail -2 "$err")"; failed=1; return
  fi
  for text in "${texts[@]}"; do
    if ! grep -qF -- "$text" "$err"; then
      echo "FAIL: $name: message lacks '$text': $(cat "$err")"; failed=1; return
    fi
  done
  echo "PASS: $name: $(head -1 "$err")"
}

# Flags.
expect_bad_input unknown_flag "--lrr" "unknown flag" -- --data_dir="$good" --lrr=0.1
expect_bad_input unparsable_value "--lr=abc" "expected a number" -- --data_dir="$good" --lr=abc
expect_bad_input unparsable_int "--batch=3x" "expected an integer" -- --data_dir="$good" --batch=3x
# --precision: its values, and a CPU oneDNN cannot run bf16 on (ONEDNN_MAX_CPU_ISA caps what
# oneDNN sees to a CPU without AVX-512). On the GPU bf16 needs no CPU support: a build without
# CUDA says that it is the build, not the CPU, that is missing.
expect_bad_input precision_value "--precision=fp16" "expected fp32 or bf16" \
  -- --data_dir="$good" --precision=fp16
expect_bad_input precision_gpu "--comm=nccl" "config=cuda" \
  -- --data_dir="$good" --precision=bf16 --comm=nccl
ONEDNN_MAX_CPU_ISA=AVX2 expect_bad_input precision_no_avx512 "--precision=bf16" "avx512_core" \
  -- --data_dir="$good" --precision=bf16
# Values out of their range are refused before training, with the range.
expect_bad_input infinite_lr "--lr=inf" "finite" -- --data_dir="$good" --lr=inf
expect_bad_input negative_c1 "--c1=-0.1" "[0, 1]" -- --data_dir="$good" --c1=-0.1
expect_bad_input c1_plus_c2 "--c1 + --c2 <= 1" -- --data_dir="$good" --c1=0.8 --c2=0.3
expect_bad_input wire_value "--wire=fp16" "fp32, bf16 or bf16-nearest" -- --data_dir="$good" --wire=fp16
expect_bad_input wire_allreduce "--wire=bf16" "--algo=allreduce" "dpsgd | matcha" -- \
  --data_dir="$good" --wire=bf16 --algo=allreduce
expect_bad_input wire_nccl "--wire=bf16" "--comm=nccl" -- --data_dir="$good" --wire=bf16 --comm=nccl
# The study's options (issue 16): each names its flag and what it expects.
expect_bad_input dirichlet_zero "--partition=dirichlet:0" "dirichlet:ALPHA (a finite ALPHA > 0)" \
  -- --data_dir="$good" --partition=dirichlet:0
expect_bad_input shards_zero "--partition=shards:0" "shards:K (an integer K >= 1)" \
  -- --data_dir="$good" --partition=shards:0
expect_bad_input sparse_level "--topology=matcha8-sparse:6" "12, 10, 9, 7, 5 edges" \
  -- --data_dir="$good" --workers=8 --batch=8 --algo=dpsgd --topology=matcha8-sparse:6
expect_bad_input sparse_alone "--topology=matcha8-sparse:5" "--graphs=2" \
  -- --data_dir="$good" --workers=8 --batch=8 --algo=dpsgd --topology=matcha8-sparse:5
expect_bad_input sparse_matcha "--topology=matcha8-sparse:5" "use the static scheme" \
  -- --data_dir="$good" --workers=8 --batch=8 --algo=aldsgd --topology=matcha8-sparse:5
expect_bad_input alternate_alone "--topology=matcha8" "{0, 4}" -- --data_dir="$good" --workers=8 \
  --batch=8 --algo=dpsgd --dpsgd_schedule=alternate --topology=matcha8
expect_bad_input alternate_matcha "--dpsgd_schedule=alternate" "alternate applies to dpsgd" \
  -- --data_dir="$good" --algo=matcha --dpsgd_schedule=alternate
expect_bad_input leader_loss "--leader_loss=ema:0" "ema:BETA with BETA in (0, 1)" \
  -- --data_dir="$good" --leader_loss=ema:0
expect_bad_input disconnected_regular "--topology=random-regular:1" "expected d >= 2" \
  -- --data_dir="$good" --workers=4 --batch=8 --topology=random-regular:1
# Outputs that could not be written are refused before the first step, not at an evaluation.
expect_bad_input metrics_dir "--metrics=$tmp/no_such_dir/m.csv" "not an existing directory" \
  -- --data_dir="$good" --metrics="$tmp/no_such_dir/m.csv"
expect_bad_input checkpoint_dir_uncreatable "--checkpoint_dir=/proc/no_such" "cannot create it" \
  -- --data_dir="$good" --checkpoint_dir=/proc/no_such

# Data files.
bad() { rm -rf "$tmp/$1"; cp -r "$good" "$tmp/$1"; echo "$tmp/$1"; }
dir=$(bad truncated_gzip)
head -c 200 "$good/train-images-idx3-ubyte.gz" > "$dir/train-images-idx3-ubyte.gz"
expect_bad_input truncated_gzip "$dir/train-images-idx3-ubyte.gz" -- --data_dir="$dir"
dir=$(bad bit_flip)
python3 - "$dir/train-labels-idx1-ubyte.gz" <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
data[-6] ^= 0x10  # inside the CRC-32 trailer: the gzip check catches it
open(path, "wb").write(bytes(data))
PY
expect_bad_input bit_flip "$dir/train-labels-idx1-ubyte.gz" -- --data_dir="$dir"
dir=$(bad idx_promises_more)
python3 - "$dir/t10k-images-idx3-ubyte.gz" <<'PY'
import gzip, struct, sys
with gzip.open(sys.argv[1], "wb") as f:
    f.write(struct.pack(">IIII", 0x803, 1000, 28, 28) + bytes(16 * 28 * 28))
PY
expect_bad_input idx_promises_more "$dir/t10k-images-idx3-ubyte.gz" "header promises" \
  -- --data_dir="$dir"
dir="$tmp/size_mismatch"
make_fashion "$dir" 28 30
expect_bad_input train_test_size_mismatch "--data_dir" "$dir/train-images-idx3-ubyte.gz" \
  "$dir/t10k-images-idx3-ubyte.gz" "1x28x28" "1x30x30" -- --data_dir="$dir"
dir="$tmp/cifar"
mkdir -p "$dir"
for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
  head -c 3073 /dev/zero > "$dir/$f.bin"
done
head -c 5000 /dev/zero > "$dir/data_batch_3.bin"
expect_bad_input cifar_wrong_size "$dir/data_batch_3.bin" -- --dataset=cifar10 --data_dir="$dir"

# Topology files (two workers, so that a topology is read).
printf 'nodes 2\n0 5\n' > "$tmp/topology.txt"
expect_bad_input topology_file "$tmp/topology.txt" -- --data_dir="$good" --workers=2 \
  --algo=dpsgd --topology=file:"$tmp/topology.txt"
expect_bad_input topology_missing "$tmp/none.txt" -- --data_dir="$good" --workers=2 \
  --algo=dpsgd --topology=file:"$tmp/none.txt"

# Checkpoints: one good one, then damaged copies, each resumed.
"$train" "${common[@]}" --data_dir="$good" --checkpoint_dir="$tmp/ck" || {
  echo "FAIL: the good run exited $?"; exit 1; }
file="$tmp/ck/checkpoint-1.safetensors"
[[ -f $file ]] || { echo "FAIL: no $file"; exit 1; }
damaged() {  # damaged NAME: a copy of the checkpoint directory; prints the file to damage
  rm -rf "$tmp/$1"; cp -r "$tmp/ck" "$tmp/$1"; echo "$tmp/$1/checkpoint-1.safetensors"
}
resume() { echo --data_dir="$good" --resume --steps=2 --checkpoint_dir="$tmp/$1"; }
f=$(damaged ck_truncated); head -c $(( $(stat -c %s "$file") / 2 )) "$file" > "$f.cut"
mv "$f.cut" "$f"
expect_bad_input ck_truncated "$f" "truncated" -- $(resume ck_truncated)
f=$(damaged ck_header)
printf 'XXXXXXXX' | dd of="$f" bs=1 seek=9 conv=notrunc status=none
expect_bad_input ck_corrupt_header "$f" -- $(resume ck_header)
f=$(damaged ck_header_length)
printf '\xff\xff\xff\x00\x00\x00\x00\x00' | dd of="$f" bs=1 seek=0 conv=notrunc status=none
expect_bad_input ck_header_length "$f" -- $(resume ck_header_length)
# Same size, another dtype: the file parses, the model refuses it.
f=$(damaged ck_dtype); sed -i '0,/"F32"/s//"I32"/' "$f"
expect_bad_input ck_dtype "$f" "dtype i32" "expects f32" -- $(resume ck_dtype)
f=$(damaged ck_dtype_unknown); sed -i '0,/"F32"/s//"Q32"/' "$f"
expect_bad_input ck_dtype_unknown "$f" "Q32" -- $(resume ck_dtype_unknown)
damaged ck_latest > /dev/null; echo "../ck/checkpoint-1.safetensors" > "$tmp/ck_latest/latest"
expect_bad_input ck_latest_outside "$tmp/ck_latest/latest" -- $(resume ck_latest)
damaged ck_missing > /dev/null; rm "$tmp/ck_missing/latest" "$tmp/ck_missing"/checkpoint-*
expect_bad_input ck_missing "$tmp/ck_missing" -- $(resume ck_missing)

# A resume that changes the run's shape is refused naming both values: written by 4 workers,
# resumed by 2; written with allreduce, resumed with dpsgd.
"$train" "${common[@]}" --data_dir="$good" --workers=4 --batch=16 --algo=allreduce \
  --checkpoint_dir="$tmp/ck4" || { echo "FAIL: the 4-worker run exited $?"; exit 1; }
expect_bad_input resume_fewer_workers "--workers=2" "written with --workers=4" \
  -- --data_dir="$good" --workers=2 --batch=16 --algo=allreduce --resume --steps=2 \
  --checkpoint_dir="$tmp/ck4"
expect_bad_input resume_other_algo "--algo=dpsgd" "written with --algo=allreduce" \
  -- --data_dir="$good" --workers=4 --batch=16 --algo=dpsgd --resume --steps=2 \
  --checkpoint_dir="$tmp/ck4"

# The precision is not part of the checkpoint (the store is f32 either way): a run written in
# fp32 resumes in bf16.
if grep -qw avx512f /proc/cpuinfo; then
  if "$train" "${common[@]}" --data_dir="$good" --workers=4 --batch=16 --algo=allreduce --resume \
    --steps=2 --precision=bf16 --checkpoint_dir="$tmp/ck4" > /dev/null 2> "$tmp/bf16_resume.err"; then
    echo "PASS: resume_in_bf16"
  else
    echo "FAIL: resume_in_bf16: $(tail -2 "$tmp/bf16_resume.err")"; failed=1
  fi
else
  echo "SKIP: resume_in_bf16: this CPU has no AVX-512, where oneDNN runs no bf16"
fi

exit "$failed"
