#!/bin/bash
# Checks the emulated cluster (tools/cluster.sh) with the MPI communicator benchmark
# (//comm:bench) and prints configured against measured figures:
#   1. each host's point-to-point bandwidth (4 MiB ping-pong with host 0) and small-message latency;
#   2. two disjoint pairs at once, each of which should get the full rate (on the shared loopback of
#      tools/shaped_network.sh they would split it);
#   3. a ring neighbour exchange over the fast hosts against the time a cluster of such NICs needs.
# Hosts 0..3 get RATE, host 4 SLOW_RATE (a heterogeneous host). Needs root, iproute2 and mpirun.
#   tools/cluster_bench.sh [--rate=1gbit] [--slow-rate=100mbit] [--delay=0ms]
# The cluster is named "aldcb" and removed on exit, also on Ctrl-C.
# Bandwidth is payload: TCP over 1500-byte frames carries at most 1448/1514 = 95.6% of the rate
# tc enforces on whole frames, as a real NIC would (about 0.94 Gbit/s at 1 Gbit/s).
set -euo pipefail
rate=1gbit slow_rate=100mbit delay=0ms
for arg in "$@"; do
  case "$arg" in
    --rate=*) rate="${arg#*=}" ;;
    --slow-rate=*) slow_rate="${arg#*=}" ;;
    --delay=*) delay="${arg#*=}" ;;
    *) echo "usage: tools/cluster_bench.sh [--rate=R] [--slow-rate=R] [--delay=D]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
name=aldcb
work=$(mktemp -d)
cleanup() { tools/cluster.sh down --name="$name" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

bazel build -c opt //comm:bench 2>/dev/null || bazel build -c opt //comm:bench
bench="$(bazel info -c opt bazel-bin 2>/dev/null)/comm/bench"

tools/cluster.sh up --name="$name" --hosts=5 --rate="$rate" --delay="$delay" \
  --host-rate=4:"$slow_rate" >"$work/up.log" || { cat "$work/up.log"; exit 2; }

# pingpong HOST_A HOST_B LOG [&]: ping-pong between two hosts, 64 B and 4 MiB.
pingpong() {
  tools/cluster.sh mpirun --name="$name" -np 2 --host "$name-h$1,$name-h$2" "$bench" --comm=mpi \
    --min_bytes=64 --max_bytes=$((4 << 20)) --repeats=12 --exchange=false --progress=false \
    >"$3" 2>&1
}
field() { awk -v size="$2" -v col="$3" '$1 " " $2 == size { print $col }' "$1"; }
bits() {  # bits per second of a tc rate like 1gbit, 100mbit
  awk -v r="$1" 'BEGIN { n = r + 0; u = tolower(r); sub(/^[0-9.]+/, "", u)
    print n * ((u == "gbit") ? 1e9 : (u == "mbit") ? 1e6 : (u == "kbit") ? 1e3 : 1) }'
}
ratio() { awk -v m="$1" -v c="$2" 'BEGIN { r = m / c; printf "%.3f %s", r, (r >= 0.9 ? "ok" : "LOW") }'; }
row() { printf "%-34s %14s %14s %10s\n" "$@"; }

echo "emulated cluster: hosts 0-3 at $rate, host 4 at $slow_rate, one-way delay $delay"
row "measurement" "configured" "measured" "ratio"

for host in 1 2 3 4; do
  pingpong 0 "$host" "$work/p$host.log" || { cat "$work/p$host.log"; exit 1; }
  configured=$rate
  ((host == 4)) && configured=$slow_rate
  gbit=$(field "$work/p$host.log" "4 MiB" 5)
  row "h0<->h$host bandwidth, 4 MiB" "$configured" "$gbit Gbit/s" \
    "$(ratio "$gbit" "$(awk -v b="$(bits "$configured")" 'BEGIN { print b / 1e9 }')")"
  row "h0<->h$host one-way latency, 64 B" "$delay" "$(field "$work/p$host.log" "64 B" 3) us" "-"
done

# Two disjoint pairs at once: each has its own NICs, so each should keep the full rate.
pingpong 0 1 "$work/pair_a.log" &
pingpong 2 3 "$work/pair_b.log" &
wait
for log in pair_a:0-1 pair_b:2-3; do
  gbit=$(field "$work/${log%%:*}.log" "4 MiB" 5)
  row "pair h${log#*:} (both at once), 4 MiB" "$rate" "$gbit Gbit/s" \
    "$(ratio "$gbit" "$(awk -v b="$(bits "$rate")" 'BEGIN { print b / 1e9 }')")"
done

# Ring of the 4 fast hosts: each sends its buffer to both neighbours, so its NIC carries 2 buffers
# out and 2 in; a cluster of such NICs needs 2 * bytes * 8 / rate at payload efficiency 95.6%.
tools/cluster.sh mpirun --name="$name" -np 4 --host "$name-h0,$name-h1,$name-h2,$name-h3" \
  "$bench" --comm=mpi --min_bytes=64 --max_bytes=64 --progress=false >"$work/ring.log" 2>&1 ||
  { cat "$work/ring.log"; exit 1; }
# The same with each buffer split into 4 messages posted at once (as the trainer's buckets are).
tools/cluster.sh mpirun --name="$name" -np 4 --host "$name-h0,$name-h1,$name-h2,$name-h3" \
  "$bench" --comm=mpi --min_bytes=64 --max_bytes=64 --progress=false --messages=4 \
  >"$work/ring4.log" 2>&1 || { cat "$work/ring4.log"; exit 1; }
for log in ring:1 ring4:4; do
  for model in ResNet-20:269722 VGG-11:9228362; do
    floats="${model#*:}"
    ideal=$(awk -v f="$floats" -v b="$(bits "$rate")" \
      'BEGIN { printf "%.1f", 2 * f * 4 * 8 / (b * 0.956) * 1e3 }')
    measured=$(awk -v m="${model%%:*}" '$0 ~ "ring of 4, " m { print $(NF - 1) }' \
      "$work/${log%%:*}.log")
    row "ring of 4, ${model%%:*}, ${log#*:} msg" "$ideal ms" "$measured ms" \
      "$(awk -v m="$measured" -v i="$ideal" 'BEGIN { printf "%.3f", m / i }')"
  done
done
echo "(ring ratio: measured / ideal time, 1.0 = every NIC busy all the time; on one shared link" \
  "of the same rate the ideal would be 4x longer)"
