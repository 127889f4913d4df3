#!/bin/bash
# An emulated cluster on this machine: N hosts, each its own network namespace with its own
# address and NIC (a veth pair) on one switch (a bridge in a switch namespace), plus a head node
# (a login node) from which mpirun launches ranks with the same ssh-like path as on real hosts.
# Every NIC is shaped in both directions with tc: the host-side veth shapes what the host sends,
# the switch-side veth what it receives (full duplex, like a real port), each an htb class at the
# rate with a netem leaf for delay, jitter and loss. Nothing is made in the root namespace, so
# deleting the cluster's namespaces removes every veth, bridge and qdisc with them.
#
#   tools/cluster.sh up [--hosts=8] [--rate=1gbit] [--delay=0.1ms] [--jitter=0ms] [--loss=0%]
#                       [--host-rate=3:100mbit] [--host-delay=3:10ms] [--host-jitter=..]
#                       [--host-loss=3:1%] [--rates=FILE] [--name=aldc]
#   tools/cluster.sh down   [--name=aldc]
#   tools/cluster.sh status [--name=aldc]
#   tools/cluster.sh mpirun [--name=aldc] MPIRUN-ARGS...   (mpirun on the head, ranks on hosts)
#   tools/cluster.sh exec   [--name=aldc] HOST COMMAND...  (HOST: h0, h1, ... or head)
#
# --delay is the one-way latency between two hosts of that setting: each NIC adds half of its
# host's delay (and jitter) in each direction, so a ping between two hosts shows 2 x delay.
# --loss is applied to what a host sends. --rates=FILE: one line per host (host 0 first),
# "RATE [DELAY [LOSS]]", '#' starts a comment; --host-* flags apply after it.
# `up` writes $state/hostfile (one slot per host); $state is /run/ald_cluster/NAME.
# Exit status 2: not root, or ip/tc/unshare/mpirun missing (the message names what).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

die() { echo "cluster.sh: $*" >&2; exit 1; }

require() {
  local tool missing=()
  for tool in ip tc unshare "$@"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if ((${#missing[@]})); then
    echo "cluster.sh: missing ${missing[*]} (ip, tc: iproute2; unshare: util-linux;" \
      "mpirun: openmpi-bin; tools/setup.sh installs them)" >&2
    exit 2
  fi
  if [[ $EUID -ne 0 ]]; then
    echo "cluster.sh: network namespaces need root (run as root or under sudo)" >&2
    exit 2
  fi
}

command="${1:-}"
[[ -n "$command" ]] && shift
name=aldc hosts=8 rate=1gbit delay=0ms jitter=0ms loss=0% rates_file=""
declare -a overrides=()
while (($#)); do
  case "$1" in
    --name=*) name="${1#*=}" ;;
    --hosts=*) hosts="${1#*=}" ;;
    --rate=*) rate="${1#*=}" ;;
    --delay=*) delay="${1#*=}" ;;
    --jitter=*) jitter="${1#*=}" ;;
    --loss=*) loss="${1#*=}" ;;
    --rates=*) rates_file="${1#*=}" ;;
    --host-rate=* | --host-delay=* | --host-jitter=* | --host-loss=*) overrides+=("$1") ;;
    *) break ;;
  esac
  shift
done
[[ "$name" =~ ^[a-z][a-z0-9]{0,7}$ ]] || die "--name must be 1-8 lowercase letters/digits"
state="/run/ald_cluster/$name"
subnet=10.201.0  # the cluster's /24; hosts are .1 .. .N, the head .254
switch="$name-sw" head="$name-head"

# The cluster's namespaces, from `ip netns list` (so leftovers of a killed `up` are found too).
cluster_namespaces() {
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$name-(sw|head|h[0-9]+)\$" || true
}

down() {
  local ns
  for ns in $(cluster_namespaces); do ip netns delete "$ns" 2>/dev/null || true; done
  rm -rf "$state"
}

# shape NS DEV RATE DELAY JITTER LOSS: htb at RATE on DEV's egress, netem below it when there is
# delay, jitter or loss. netem's limit is raised so a long fat link keeps its window in flight.
shape() {
  local ns="$1" dev="$2" r="$3" d="$4" j="$5" l="$6"
  ip netns exec "$ns" tc qdisc add dev "$dev" root handle 1: htb default 1
  # One class, so the quantum (the per-round share between classes) only has to exceed a GSO
  # packet; the default (rate / 10) is over tc's limit and warns at 1gbit.
  # The bucket holds 1 ms of traffic: tc's default (one MTU) loses a tenth of 1gbit whenever the
  # qdisc's timer fires late on a busy machine; a larger one would let short messages beat the rate.
  local burst
  burst=$(awk -v r="$r" 'BEGIN { n = r + 0; u = tolower(r); sub(/^[0-9.]+/, "", u)
    m = (u == "gbit") ? 1e9 : (u == "mbit") ? 1e6 : (u == "kbit") ? 1e3 : (u == "bit") ? 1 : 0
    b = n * m / 8 / 1000; if (b < 3200) b = 3200; printf "%d\n", b }')
  ip netns exec "$ns" tc class add dev "$dev" parent 1: classid 1:1 htb rate "$r" ceil "$r" \
    burst "$burst" cburst "$burst" quantum 200000 ||
    die "tc rejected the rate '$r' (expected e.g. 1gbit, 100mbit)"
  local netem=()
  is_zero "$d" && is_zero "$j" || netem+=(delay "$d" "$j")
  is_zero "$l" || netem+=(loss "$l")
  if ((${#netem[@]})); then
    ip netns exec "$ns" tc qdisc add dev "$dev" parent 1:1 handle 10: netem "${netem[@]}" \
      limit 100000 || die "tc rejected netem ${netem[*]}"
  fi
}

# is_zero 0ms / 0% / 0.0us: true when the setting asks for nothing.
is_zero() { awk -v v="$1" 'BEGIN { exit !(v + 0 == 0) }'; }

# Delay, jitter and loss need netem, which some kernels lack (CONFIG_NET_SCH_NETEM unset): then
# only rates can be emulated, and asking for more is an error rather than a silent no-op.
require_netem_if_used() {
  local v
  for v in "$@"; do
    is_zero "$v" && continue
    if ! ip netns exec "$switch" tc qdisc add dev lo root handle 1: netem delay 1ms 2>/dev/null; then
      echo "cluster.sh: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM), so delay, jitter" \
        "and loss ('$v') cannot be emulated; rates (--rate, --host-rate) work without it" >&2
      down
      exit 2
    fi
    ip netns exec "$switch" tc qdisc del dev lo root
    return 0
  done
}

# half 0.2ms -> 100us: each NIC direction carries half of the host's one-way delay.
half() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    us = (u == "ms") ? n * 1000 : (u == "s") ? n * 1e6 : (u == "us" || u == "") ? n : -1
    if (us < 0) { print "bad"; exit }
    printf "%gus\n", us / 2 }'
}

up() {
  [[ "$hosts" =~ ^[0-9]+$ ]] && ((hosts >= 2 && hosts <= 200)) || die "--hosts must be 2..200"
  local -a h_rate h_delay h_jitter h_loss
  local i line
  for ((i = 0; i < hosts; i++)); do
    h_rate[i]=$rate h_delay[i]=$delay h_jitter[i]=$jitter h_loss[i]=$loss
  done
  if [[ -n "$rates_file" ]]; then
    [[ -r "$rates_file" ]] || die "--rates: cannot read '$rates_file'"
    i=0
    while read -r line; do
      line="${line%%#*}"
      read -r -a f <<<"$line"
      ((${#f[@]})) || continue
      ((i < hosts)) || die "--rates: more lines than --hosts=$hosts"
      h_rate[i]="${f[0]}" h_delay[i]="${f[1]:-${h_delay[i]}}" h_loss[i]="${f[2]:-${h_loss[i]}}"
      i=$((i + 1))
    done <"$rates_file"
  fi
  local o what spec host value
  for o in "${overrides[@]}"; do
    what="${o%%=*}" spec="${o#*=}" host="${spec%%:*}" value="${spec#*:}"
    [[ "$host" =~ ^[0-9]+$ ]] && ((host < hosts)) && [[ "$spec" == *:* ]] ||
      die "$o: expected ${what}=HOST:VALUE with HOST in 0..$((hosts - 1))"
    case "$what" in
      --host-rate) h_rate[host]="$value" ;;
      --host-delay) h_delay[host]="$value" ;;
      --host-jitter) h_jitter[host]="$value" ;;
      --host-loss) h_loss[host]="$value" ;;
    esac
  done

  down  # leftovers of an earlier cluster of this name (a crash, a killed `up`)
  # A half-made cluster is removed when `up` fails or is interrupted.
  trap 'down; exit 130' INT TERM
  trap 'if (($? != 0)); then echo "cluster.sh: up failed; removing the partial cluster" >&2; down; fi' EXIT
  mkdir -p "$state"

  # What this machine cannot do (a container without CAP_SYS_ADMIN, a kernel without bridges)
  # is a missing capability, exit 2, not a failure of the cluster.
  if ! ip netns add "$switch"; then
    echo "cluster.sh: cannot create a network namespace (needs CAP_SYS_ADMIN and CAP_NET_ADMIN)" >&2
    exit 2
  fi
  ip -n "$switch" link set lo up
  require_netem_if_used "${h_delay[@]}" "${h_jitter[@]}" "${h_loss[@]}"
  if ! ip -n "$switch" link add br0 type bridge; then
    echo "cluster.sh: this kernel cannot make a bridge (CONFIG_BRIDGE)" >&2
    down
    exit 2
  fi
  ip -n "$switch" link set br0 up

  # The head: an unshaped port, so control traffic (mpirun's daemons, I/O) costs the hosts nothing.
  ip netns add "$head"
  ip -n "$head" link set lo up
  if ! ip link add eth0 netns "$head" type veth peer name head netns "$switch"; then
    echo "cluster.sh: this kernel cannot make a veth pair (CONFIG_VETH)" >&2
    down
    exit 2
  fi
  ip -n "$switch" link set head master br0 up
  ip -n "$head" addr add "$subnet.254/24" dev eth0
  ip -n "$head" link set eth0 up

  local ns d2 j2
  : >"$state/hostfile"
  printf "%-6s %-12s %-10s %-10s %-8s %-8s\n" host address rate delay jitter loss >"$state/hosts"
  for ((i = 0; i < hosts; i++)); do
    ns="$name-h$i"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add eth0 netns "$ns" type veth peer name "h$i" netns "$switch"
    ip -n "$switch" link set "h$i" master br0 up
    ip -n "$ns" addr add "$subnet.$((i + 1))/24" dev eth0
    ip -n "$ns" link set eth0 up
    d2=$(half "${h_delay[i]}") j2=$(half "${h_jitter[i]}")
    [[ "$d2" != bad && "$j2" != bad ]] || die "host $i: delay/jitter must be like 0.1ms, 50us, 1s"
    shape "$ns" eth0 "${h_rate[i]}" "$d2" "$j2" "${h_loss[i]}"           # what the host sends
    shape "$switch" "h$i" "${h_rate[i]}" "$d2" "$j2" 0%                  # what it receives
    echo "$ns slots=1" >>"$state/hostfile"  # a host name is its namespace
    printf "%-6s %-12s %-10s %-10s %-8s %-8s\n" "h$i" "$subnet.$((i + 1))" "${h_rate[i]}" \
      "${h_delay[i]}" "${h_jitter[i]}" "${h_loss[i]}" >>"$state/hosts"
  done
  echo "$name" >"$state/name"
  trap - INT TERM EXIT
  cat "$state/hosts"
  echo "hostfile: $state/hostfile; launch: tools/cluster.sh mpirun --name=$name -np $hosts PROGRAM"
}

status() {
  local namespaces
  namespaces=$(cluster_namespaces)
  if [[ -z "$namespaces" ]]; then
    echo "cluster $name: down"
    return 0
  fi
  echo "cluster $name: namespaces ${namespaces//$'\n'/ }"
  [[ -r "$state/hosts" ]] && cat "$state/hosts"
  local ns
  for ns in $namespaces; do
    [[ "$ns" =~ -h[0-9]+$ ]] || continue
    echo "$ns: $(ip -n "$ns" -br addr show eth0 | awk '{print $3}');" \
      "egress $(ip netns exec "$ns" tc class show dev eth0 | grep -o 'rate [^ ]*' | head -1)" \
      "$(ip netns exec "$ns" tc qdisc show dev eth0 | grep -o 'netem.*' || true)"
  done
}

# The mpirun a real cluster would run, with two differences: the agent enters namespaces instead
# of ssh'ing, and mpirun itself runs on the head node. MPI's TCP traffic (and mpirun's own
# out-of-band channel) stay on the cluster's subnet.
cluster_mpirun() {
  [[ -r "$state/hostfile" ]] || die "cluster '$name' is not up (tools/cluster.sh up --name=$name)"
  exec ip netns exec "$head" mpirun --allow-run-as-root --hostfile "$state/hostfile" \
    --mca plm_rsh_agent "$here/cluster_agent.sh" --mca plm_rsh_no_tree_spawn 1 \
    --mca btl self,vader,tcp --mca btl_tcp_if_include "$subnet.0/24" \
    --mca oob_tcp_if_include "$subnet.0/24" "$@"
}

cluster_exec() {
  local host="${1:-}"
  shift || true
  [[ -n "$host" ]] || die "exec: expected HOST COMMAND..."
  ip netns list | grep -q "^$name-$host\b" || die "no host '$host' in cluster '$name'"
  exec ip netns exec "$name-$host" "$@"
}

case "$command" in
  up) require; up ;;
  down) require; down; echo "cluster $name: down" ;;
  status) require; status ;;
  mpirun) require mpirun; cluster_mpirun "$@" ;;
  exec) require; cluster_exec "$@" ;;
  *) echo "usage: tools/cluster.sh up|down|status|mpirun|exec [flags] (see the header)" >&2; exit 2 ;;
esac
