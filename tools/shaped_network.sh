#!/bin/bash
# Runs the MPI communicator benchmark (//comm:bench) over a bandwidth-limited network: the
# loopback of a private network namespace, shaped by a tc htb qdisc, and reports the bandwidth
# achieved next to the shaped rate. Needs root and iproute2 (ip, tc).
#   tools/shaped_network.sh [RATE] [RANKS]        e.g. tools/shaped_network.sh 1gbit 2
# Note: every packet crosses the one shaped `lo`, so traffic in both directions (a ring
# exchange) shares RATE.
set -euo pipefail
rate="${1:-1gbit}"
ranks="${2:-2}"
cd "$(dirname "$0")/.."

for tool in ip tc mpirun; do
  command -v "$tool" >/dev/null || { echo "$tool not found (ip, tc: Debian's iproute2)" >&2; exit 1; }
done
bazel build -c opt //comm:bench
bench="$(bazel info -c opt bazel-bin)/comm/bench"

namespace="ald_shaped_$$"
log="$(mktemp)"
cleanup() {
  ip netns delete "$namespace" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

ip netns add "$namespace"
in_namespace() { ip netns exec "$namespace" "$@"; }
in_namespace ip link set lo up
in_namespace tc qdisc add dev lo root handle 1: htb default 10
in_namespace tc class add dev lo parent 1: classid 1:10 htb rate "$rate" ceil "$rate"
echo "namespace $namespace: lo shaped to $rate"
in_namespace tc class show dev lo

in_namespace mpirun --allow-run-as-root --oversubscribe -np "$ranks" \
  --mca btl tcp,self --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo \
  "$bench" --comm=mpi --min_bytes=65536 | tee "$log"

achieved=$(awk '$1 == 64 && $2 == "MiB" { print $5 }' "$log")
echo "shaped rate: $rate; achieved by a 64 MiB ping-pong: ${achieved:-?} Gbit/s"
