#!/bin/bash
# Training across 4 emulated hosts (tools/cluster.sh: a network namespace each, mpirun launching
# through the ssh-like agent), as on a real cluster:
#  1. D-PSGD and AL-DSGD reach checkpoints byte-identical to 4 in-process workers (one OpenMP
#     thread each: the emulated hosts share this machine's cores, so the cluster side says so
#     with --threads_per_worker=1; each host alone would derive all the cores).
#  2. SIGKILL of host 2's rank: every other rank exits 3 within --timeout + 5 s, each naming
#     rank 2 as the rank that died (the liveness mesh crosses hosts; on a ring, ranks 0's
#     neighbours are survivors that leave because of rank 2, and it must not blame them).
#  3. Nothing is left behind: no namespaces (which hold all veths, the bridge and the qdiscs),
#     and no new veth or bridge in the root namespace.
# Skips (and passes), saying why, without root, iproute2, unshare or mpirun.
#   cluster_test.sh TRAIN CLUSTER_SH
set -uo pipefail
train="$(realpath "$1")"
cluster="$(realpath "$2")"
name="t$(($$ % 10000000))"  # unique per run, so it cannot touch a user's cluster
timeout_s=3
# Under a sanitizer a survivor's exit runs LeakSanitizer's heap scan after it has named the dead
# peer (seconds on a loaded 2-core machine); .bazelrc's asan/tsan configs set this slack.
exit_limit_s=$((timeout_s + 5 + ${SANITIZER_EXIT_SLACK_S:-0}))
tmp=$(mktemp -d)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
root_links() { ip -o link show type veth 2>/dev/null; ip -o link show type bridge 2>/dev/null; }

if [[ $EUID -ne 0 ]]; then echo "SKIP: not root (network namespaces need root)"; exit 0; fi
for tool in ip tc unshare mpirun; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool not found (tools/setup.sh installs iproute2, util-linux, openmpi-bin)"
    exit 0
  fi
done
links_before=$(root_links | awk -F': ' '{print $2}' | sort)

cleanup() {
  # Whatever still runs in the cluster (a hung mpirun, its daemons, ranks) is this test's.
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep "^$name-"); do
    ip netns pids "$ns" | xargs -r kill -9 2>/dev/null
  done
  "$cluster" down --name="$name" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$cluster" up --name="$name" --hosts=4 --rate=1gbit >"$tmp/up.log" 2>&1
case $? in
  0) cat "$tmp/up.log" ;;
  2) echo "SKIP: $(cat "$tmp/up.log")"; exit 0 ;;
  *) cat "$tmp/up.log"; echo "FAIL: tools/cluster.sh up"; exit 1 ;;
esac

common=(--dataset=synthetic --model=resnet8 --batch=16 --steps=12 --eval_every=1000
        --checkpoint_every=12 --quiet --timeout=30 --threads_per_worker=1)
on_cluster() { timeout 120 "$cluster" mpirun --name="$name" -np 4 "$@"; }

echo "== 1. 4 emulated hosts against 4 in-process workers"
for algo in dpsgd aldsgd; do
  "$train" "${common[@]}" --workers=4 --algo="$algo" --checkpoint_dir="$tmp/inproc_$algo"
  on_cluster "$train" "${common[@]}" --comm=mpi --algo="$algo" --min_buckets=3 \
    --checkpoint_dir="$tmp/cluster_$algo" || fail "$algo on the cluster exited with $?"
  for worker in 0 1 2 3; do
    a="$tmp/inproc_$algo/worker-$worker/checkpoint-12.safetensors"
    b="$tmp/cluster_$algo/worker-$worker/checkpoint-12.safetensors"
    if cmp -s "$a" "$b"; then
      echo "PASS: $algo worker $worker: in-process and cluster checkpoints are identical"
    else
      fail "$algo worker $worker: checkpoints differ ($(cmp "$a" "$b" 2>&1 | head -1))"
    fi
  done
done

echo "== 2. host 2's rank is killed; the others exit within --timeout + 5 s naming rank 2"
# The rank of HOST: the process in its namespace running $train (its parent is mpirun's daemon).
rank_pid() {
  local pid
  for pid in $(ip netns pids "$name-h$1" 2>/dev/null); do
    [[ "$( { tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | head -1)" == "$train" ]] && echo "$pid"
  done
}
# --enable-recovery keeps mpirun from killing the job itself, so the survivors' own detection is
# what is tested (as in mpi_fault_test.sh). Each rank's stderr and exit status go to files of its
# own: after the kill Open MPI floods the job's output with TCP errors, and a line read from the
# merged output can arrive glued to one of them.
on_cluster --enable-recovery bash -c \
  'dir=$0; rank=$OMPI_COMM_WORLD_RANK; "$@" 2>"$dir/stderr.$rank"; echo $? >"$dir/status.$rank"' \
  "$tmp" "$train" --dataset=synthetic --model=resnet8 \
  --batch=16 --epochs=1000 --eval_every=100000 --quiet --timeout="$timeout_s" --comm=mpi \
  --algo=dpsgd --topology=ring --threads_per_worker=1 >"$tmp/fault.log" 2>&1 &
mpirun_pid=$!
for _ in $(seq 1 120); do  # until every rank runs (up to 30 s)
  running=0
  for host in 0 1 2 3; do [[ -n "$(rank_pid "$host")" ]] && running=$((running + 1)); done
  ((running == 4)) && break
  sleep 0.25
done
sleep 2  # into the training steps
victim=$(rank_pid 2)
if [[ -z "$victim" ]]; then
  fail "host 2's rank is not running"; cat "$tmp/fault.log"
else
  kill -9 "$victim"
  killed=$(date +%s.%N)
  declare -A exited=() missing=()
  named=0
  while ((${#exited[@]} < 3)); do
    now=$(date +%s.%N)
    for host in 0 1 3; do
      [[ -n "${exited[$host]:-}" ]] && continue
      # Gone at two polls in a row: one read of /proc can miss a process on a loaded machine.
      if [[ -z "$(rank_pid "$host")" ]]; then
        [[ -n "${missing[$host]:-}" ]] && exited[$host]=${missing[$host]}
        missing[$host]=${missing[$host]:-$(echo "$now - $killed" | bc)}
      else
        unset "missing[$host]"
      fi
    done
    (($(echo "$now - $killed > $exit_limit_s + 25" | bc))) && break
    sleep 0.1
  done
  wait "$mpirun_pid"
  for rank in 0 1 3; do
    line=$(grep "^train:" "$tmp/stderr.$rank" 2>/dev/null | head -1)
    echo "rank $rank exited after ${exited[$rank]:-never} s: ${line#*train: }"
    if [[ -z "${exited[$rank]:-}" ]] || (($(echo "${exited[$rank]} > $exit_limit_s" | bc))); then
      fail "rank $rank did not exit within $exit_limit_s s"
    fi
    # The first rank the message names with its host is the one blamed.
    blamed=$(grep -oE 'rank [0-9]+ \(host [^)]*\) (died|failed|sent nothing)' <<<"$line" | head -1)
    if [[ $blamed == "rank 2 (host "*") died" ]]; then
      named=$((named + 1))
    else
      fail "rank $rank blames '${blamed:-nobody}', want rank 2 died"
      tail -n 200 "$tmp/stderr.$rank" "$tmp/fault.log"
    fi
    code=$(cat "$tmp/status.$rank" 2>/dev/null)
    [[ $code == 3 ]] || fail "rank $rank exited with '${code:-nothing}', want 3"
  done
  ((named == 3)) || fail "$named of 3 survivors named rank 2"
  fault_checked=1
fi
# An error inside the block above (set -u) skips the rest of it; that must not pass silently.
[[ -n "${fault_checked:-}" ]] || fail "the fault check did not run to its end"
wait "$mpirun_pid" 2>/dev/null

echo "== 3. nothing left behind"
"$cluster" down --name="$name" >/dev/null
left=$(ip netns list | awk '{print $1}' | grep "^$name-" | tr '\n' ' ')
if [[ -z "$left" ]]; then echo "PASS: no namespaces left"; else fail "namespaces left: $left"; fi
links_after=$(root_links | awk -F': ' '{print $2}' | sort)
new_links=$(comm -13 <(echo "$links_before") <(echo "$links_after") | tr '\n' ' ')
if [[ -z "${new_links// /}" ]]; then
  echo "PASS: no veth or bridge in the root namespace"
else
  fail "new links in the root namespace: $new_links"
fi

echo "$failures failure(s)"
[[ $failures == 0 ]]
