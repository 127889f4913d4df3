#!/usr/bin/env bash
# Installs the Debian packages this project builds, tests and trains with.
# Idempotent: when everything is already installed it only checks and exits.
# Usage: tools/setup.sh [--peer]   (--peer adds PyTorch and OpenBLAS for the peer benchmarks)
set -euo pipefail

packages=(
  bazel-bootstrap bazel-platforms          # build system (Bazel 4.2.3, offline)
  g++                                      # compiler
  clang libclang-rt-14-dev                 # libFuzzer harnesses (tools/fuzz.sh)
  libdnnl-dev                              # oneDNN: CPU kernels
  libabsl-dev                              # Status, flags, strings
  libeigen3-dev                            # dense symmetric eigenproblems (topologies)
  libgtest-dev libgmock-dev                # unit tests
  libbenchmark-dev                         # micro benchmarks
  libopenmpi-dev openmpi-bin               # MPI communicator
  zlib1g-dev                               # gzip'd IDX files
  dataset-fashion-mnist                    # the default real data set
  gnuplot-nox                              # plots of the algorithm comparison and timelines
  iproute2                                 # ip / tc: shaped-network benchmark, tools/cluster.sh
  util-linux                               # unshare: a hostname per emulated host (cluster.sh)
)
if [[ "${1:-}" == "--peer" ]]; then
  packages+=(python3-torch libopenblas0-openmp)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
