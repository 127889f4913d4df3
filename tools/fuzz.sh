#!/usr/bin/env bash
# Builds the libFuzzer harnesses (every *_fuzzer.cc) with clang++ -fsanitize=fuzzer,address,
# undefined, seeds each with real files (Debian's Fashion-MNIST, a checkpoint the trainer writes,
# a topology file), and runs each for SECONDS (default 20). Outside Bazel: Bazel 4 here has only
# the gcc toolchain, and libFuzzer needs clang (Debian: clang, libclang-rt-14-dev; tools/setup.sh).
# Usage: tools/fuzz.sh [SECONDS] [HARNESS...]   A crash leaves its input in $work/<harness>/.
# Longer runs: tools/fuzz.sh 600 (about 10 minutes per harness).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
shift || true
work="${FUZZ_DIR:-/tmp/ald-fuzz}"
mkdir -p "$work"

# name: sources beyond the harness (each reader and what it links).
declare -A sources=(
  [json_fuzzer]="core/json_fuzzer.cc core/json.cc"
  [idx_fuzzer]="data/idx_fuzzer.cc data/idx.cc data/gzip_file.cc core/file_io.cc"
  [cifar10_fuzzer]="data/cifar10_fuzzer.cc data/cifar10.cc data/gzip_file.cc core/file_io.cc"
  [graph_file_fuzzer]="comm/topology/graph_file_fuzzer.cc comm/topology/network_graph.cc
    comm/topology/matcha8_sparse.cc
    core/rng.cc core/tensor.cc core/allocator.cc core/device.cc core/dtype.cc core/shape.cc"
  [safetensors_fuzzer]="checkpoint/safetensors_fuzzer.cc checkpoint/safetensors.cc
    checkpoint/checkpoint.cc core/json.cc core/file_io.cc core/atomic_file.cc core/tensor.cc
    core/allocator.cc core/device.cc core/dtype.cc core/shape.cc"
)
harnesses=("$@")
((${#harnesses[@]})) || harnesses=(json_fuzzer idx_fuzzer cifar10_fuzzer graph_file_fuzzer
                                   safetensors_fuzzer)
absl_libs=$(pkg-config --libs absl_status absl_statusor absl_strings absl_str_format)

# Seeds from real files.
seed() {  # seed HARNESS: fills $work/HARNESS/seeds
  local dir="$work/$1/seeds" fm=/usr/share/datasets/fashion-mnist
  rm -rf "$dir"; mkdir -p "$dir"
  case "$1" in
    idx_fuzzer)
      cp "$fm/t10k-labels-idx1-ubyte.gz" "$dir/labels.gz"
      # The first 4 real test images as a complete IDX file (plain and gzip).
      python3 - "$fm/t10k-images-idx3-ubyte.gz" "$dir" <<'PY'
import gzip, struct, sys
raw = gzip.open(sys.argv[1]).read()
small = struct.pack(">IIII", 0x803, 4, 28, 28) + raw[16:16 + 4 * 784]
open(sys.argv[2] + "/images", "wb").write(small)
open(sys.argv[2] + "/images.gz", "wb").write(gzip.compress(small))
PY
      ;;
    cifar10_fuzzer)  # two records: label byte + 3072 pixels (real Fashion-MNIST pixels)
      python3 - "$fm/t10k-images-idx3-ubyte.gz" "$dir" <<'PY'
import gzip, sys
raw = gzip.open(sys.argv[1]).read()[16:]
open(sys.argv[2] + "/two_records.bin", "wb").write(bytes([3]) + raw[:3072] + bytes([7]) + raw[3072:6144])
PY
      ;;
    graph_file_fuzzer)
      printf '# matcha8 as matchings\nnodes 8\n1 5\n6 7\n0 4\n2 3\n1 7\n3 6\n1 0\n3 7\n5 6\n1 2\n7 0\n3 1\n' \
        > "$dir/matcha8.txt"
      printf '0 1\n1 2\n2 3\n3 0\n' > "$dir/ring4.txt"
      ;;
    safetensors_fuzzer|json_fuzzer)
      # A checkpoint the trainer writes, and its JSON header. The model is the example's my_cnn
      # (5 k parameters, a 44 KiB file): libFuzzer's mutations of a 300 KiB ResNet-8 checkpoint
      # land almost all in the tensor bytes, which the parser never looks at.
      local ck="$work/checkpoint_my_cnn"
      if [[ ! -f $ck/latest ]]; then
        bazel build //examples/my_model:train >/dev/null 2>&1
        OMP_NUM_THREADS=1 bazel-bin/examples/my_model/train --dataset=synthetic --model=my_cnn \
          --workers=1 --steps=1 --quiet --checkpoint_dir="$ck" >/dev/null
      fi
      local file="$ck/$(cat "$ck/latest")"
      if [[ $1 == safetensors_fuzzer ]]; then
        # -max_len below: a longer seed would be cut, and the cut file is no longer real.
        (($(stat -c %s "$file") <= 65536)) || { echo "seed $file is over 64 KiB" >&2; return 1; }
        cp "$file" "$dir/checkpoint.safetensors"
      fi
      python3 - "$file" "$dir/header.json" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
open(sys.argv[2], "wb").write(data[8:8 + n])
PY
      ;;
  esac
}

failed=0
for h in "${harnesses[@]}"; do
  bin="$work/$h/$h"
  mkdir -p "$work/$h/corpus"
  # shellcheck disable=SC2086
  clang++ -std=c++20 -O1 -g -I. -I/usr/include/eigen3 -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all ${sources[$h]} -o "$bin" $absl_libs -lz
  seed "$h"
  echo "== $h: ${seconds}s"
  if ! (cd "$work/$h" && "$bin" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
          -rss_limit_mb=2048 -print_final_stats=1 corpus seeds > log 2>&1); then
    echo "FAIL: $h: $(grep -m1 -E 'ERROR|SUMMARY' "$work/$h/log")"; failed=1
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+[[:space:]]+DONE' "$work/$h/log" | tail -2
done
exit "$failed"
