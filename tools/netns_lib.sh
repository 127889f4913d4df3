# shellcheck shell=bash
# Sourced (not run) by tools/shaped_network.sh and tools/shaped_training_bench.sh: a private
# network namespace whose loopback is shaped by a tc htb qdisc, and mpirun over that loopback.
# Needs root and iproute2 (ip, tc). Every packet crosses the one shaped `lo`, so traffic in both
# directions (a ring exchange) shares the rate.
#
# Use:
#   source tools/netns_lib.sh
#   netns_require mpirun                   # ip, tc and the named tools, or a clear error
#   ns="ald_shaped_$$"
#   trap 'netns_delete "$ns"' EXIT         # before netns_create, so a half-made one goes too
#   netns_create "$ns" 1gbit
#   netns_mpirun "$ns" -np 4 BINARY ARGS...
# The functions return non-zero on failure (callers run under `set -e`).

# Fails naming the first missing tool among ip, tc and "$@".
netns_require() {
  local tool
  for tool in ip tc "$@"; do
    if ! command -v "$tool" >/dev/null; then
      echo "$tool not found (ip, tc: Debian's iproute2; mpirun: openmpi-bin)" >&2
      return 1
    fi
  done
  # `ip netns add` fails with a terse "Permission denied" otherwise.
  if [[ $EUID -ne 0 ]]; then
    echo "a private network namespace needs root (run as root or under sudo)" >&2
    return 1
  fi
}

# netns_create NAME RATE: the namespace NAME with its loopback up and shaped to RATE (tc's
# syntax: 1gbit, 100mbit, ...). Prints the class tc installed, so a log shows the rate in force.
netns_create() {
  local name="$1" rate="$2"
  ip netns add "$name"
  ip netns exec "$name" ip link set lo up
  ip netns exec "$name" tc qdisc add dev lo root handle 1: htb default 10
  if ! ip netns exec "$name" tc class add dev lo parent 1: classid 1:10 htb \
      rate "$rate" ceil "$rate"; then
    echo "tc rejected the rate '$rate' (expected e.g. 1gbit, 100mbit)" >&2
    return 1
  fi
  echo "namespace $name: lo shaped to $rate" >&2
  ip netns exec "$name" tc class show dev lo >&2
}

# netns_delete NAME: removes the namespace (and with it its lo and qdisc); quiet and successful
# when it does not exist, so it is safe in an EXIT trap at any point.
netns_delete() {
  ip netns delete "$1" 2>/dev/null || true
}

# netns_exec NAME COMMAND...: runs COMMAND inside the namespace.
netns_exec() {
  local name="$1"
  shift
  ip netns exec "$name" "$@"
}

# netns_mpirun NAME MPIRUN-ARGS...: mpirun inside the namespace with Open MPI's TCP transport
# (and its out-of-band channel) on the shaped loopback only; shared memory is left out so that the
# ranks' traffic really crosses `lo`. Root needs --allow-run-as-root; --oversubscribe lets more
# ranks than cores start.
netns_mpirun() {
  local name="$1"
  shift
  ip netns exec "$name" mpirun --allow-run-as-root --oversubscribe \
    --mca btl tcp,self --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo "$@"
}
