#!/bin/bash
# Packs the GPU build for a machine that has a GPU but neither Bazel nor our Debian libraries
# (the lent H100 of issue 8): builds //tools:bench and every GPU test with --config=cuda -c opt,
# and writes one tarball holding them and the shared libraries they load, less the C library
# and the CUDA libraries (CUDA runtime, cuBLAS, cuDNN, NCCL), which the GPU machine provides
# (its PyTorch wheels carry CUDA 13 builds of all of them), plus //tools:train and Debian's
# Fashion-MNIST. tools/gpu_device_run.sh unpacks it there, runs the tests, compares
# //tools:bench with PyTorch on the same GPU and trains one epoch on the GPU.
#
#   tools/gpu_bundle.sh [OUT]      (default OUT: .device/gpu_bundle.tar.xz, ignored by git)
#
# OUT then travels to the GPU machine as a carried path (about 40 MB, most of it the data set,
# under the 64 MiB a call may carry; the script prints its size).
set -euo pipefail
start_dir="$PWD"
cd "$(dirname "$0")/.."
out="${1:-.device/gpu_bundle.tar.xz}"
if [[ $out != /* ]]; then out="$start_dir/$out"; fi
[[ -x /usr/local/cuda/bin/nvcc ]] || { echo "gpu_bundle: no CUDA toolkit at /usr/local/cuda" >&2; exit 1; }

tests=$(bazel query --noshow_progress \
  'kind(cc_test, //ops/cuda/... + //graph/cuda/...) + //comm:nccl_communicator_test + //comm/algorithms:gpu_rules_test')
bazel build --config=cuda -c opt //tools:bench //tools:train $tests
bin_dir="$(bazel info --config=cuda -c opt bazel-bin)"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib"
binaries=("$bin_dir/tools/bench" "$bin_dir/tools/train")
for label in $tests; do
  path="${label#//}"
  binaries+=("$bin_dir/${path/://}")
done
for binary in "${binaries[@]}"; do
  [[ -x $binary ]] || { echo "gpu_bundle: $binary was not built" >&2; exit 1; }
  cp -L "$binary" "$stage/bin/"
done

# What the GPU machine has already, or must provide itself: the C library and the dynamic
# loader (a newer glibc there runs binaries built against ours), the driver, and the CUDA
# libraries, whose versions must match its driver.
provided='^(linux-vdso|ld-linux|libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|libresolv'
provided+='|libcuda\.so|libcudart|libcublas|libcudnn|libnccl|libnvrtc|libnvJitLink)'
for binary in "${binaries[@]}"; do
  # "name => /path (0x...)" for every library the loader resolves here (on the binary where
  # Bazel left it: its RUNPATH finds our own libraries relative to that place).
  while read -r name _ path _; do
    [[ $name =~ $provided ]] && continue
    if [[ $path == "not" || -z $path ]]; then
      echo "gpu_bundle: $(basename "$binary") needs $name, which is not found here" >&2
      exit 1
    fi
    [[ -e $stage/lib/$name ]] || cp -L "$path" "$stage/lib/$name"
  done < <(ldd "$binary" | awk '$2 == "=>"')
done

# Fashion-MNIST (Debian's copy) for the one-epoch training run there.
data=/usr/share/datasets/fashion-mnist
[[ -s $data/train-images-idx3-ubyte.gz ]] ||
  { echo "gpu_bundle: no Fashion-MNIST in $data (tools/setup.sh installs it)" >&2; exit 1; }
mkdir -p "$stage/data/fashion-mnist"
cp "$data"/*-ubyte.gz "$stage/data/fashion-mnist/"

{
  echo "built $(date -u +%Y-%m-%dT%H:%MZ) from $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"
  echo "nvcc: $(/usr/local/cuda/bin/nvcc --version | tail -1)"
  echo "CUDA libraries expected on the GPU machine:"
  ldd "${binaries[@]}" | awk '$2 == "=>" {print $1}' | grep -E 'libcud|libcublas|libnccl' |
    sort -u | sed 's/^/  /'
} >"$stage/MANIFEST"

mkdir -p "$(dirname "$out")"
tar -C "$stage" -cJf "$out.tmp" bin lib data MANIFEST
mv "$out.tmp" "$out"
echo "gpu_bundle: $(ls "$stage/bin" | wc -l) binaries, $(ls "$stage/lib" | wc -l) libraries," \
  "$(du -h "$out" | cut -f1) in $out" >&2
