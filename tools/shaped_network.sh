#!/bin/bash
# Runs the MPI communicator benchmark (//comm:bench) over a bandwidth-limited network: the
# loopback of a private network namespace, shaped by a tc htb qdisc (tools/netns_lib.sh), and
# reports the bandwidth achieved next to the shaped rate. Needs root and iproute2 (ip, tc).
#   tools/shaped_network.sh [RATE] [RANKS]        e.g. tools/shaped_network.sh 1gbit 2
# Note: every packet crosses the one shaped `lo`, so traffic in both directions (a ring
# exchange) shares RATE.
set -euo pipefail
rate="${1:-1gbit}"
ranks="${2:-2}"
cd "$(dirname "$0")/.."
source tools/netns_lib.sh

netns_require mpirun
bazel build -c opt //comm:bench
bench="$(bazel info -c opt bazel-bin)/comm/bench"

namespace="ald_shaped_$$"
log="$(mktemp)"
cleanup() {
  netns_delete "$namespace"
  rm -f "$log"
}
trap cleanup EXIT

netns_create "$namespace" "$rate"

netns_mpirun "$namespace" -np "$ranks" "$bench" --comm=mpi --min_bytes=65536 | tee "$log"

achieved=$(awk '$1 == 64 && $2 == "MiB" { print $5 }' "$log")
echo "shaped rate: $rate; achieved by a 64 MiB ping-pong: ${achieved:-?} Gbit/s"
