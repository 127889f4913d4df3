#!/bin/bash
# mpirun's launcher for the emulated cluster (tools/cluster.sh), called like ssh:
#   cluster_agent.sh [ssh options] HOST COMMAND...
# HOST is one of the cluster's host namespaces (the names in its hostfile). COMMAND runs in a
# shell inside that namespace with its own UTS namespace and hostname HOST, so each Open MPI
# daemon sees a distinct node name, as on separate machines.
set -euo pipefail
while [[ "${1:-}" == -* ]]; do shift; done  # ssh options mpirun may add (-x, -T)
host="${1:-}"
shift || true
if [[ -z "$host" || $# == 0 ]]; then
  echo "cluster_agent.sh: expected HOST COMMAND..." >&2
  exit 255
fi
if ! ip netns list | awk '{print $1}' | grep -qx -- "$host"; then
  echo "cluster_agent.sh: no emulated host '$host' (is the cluster up? tools/cluster.sh status)" >&2
  exit 255
fi
# ssh joins its arguments into one command line for the remote shell; so do we.
exec ip netns exec "$host" unshare --uts -- /bin/sh -c 'hostname "$1" && exec /bin/sh -c "$2"' \
  agent "$host" "$*"
