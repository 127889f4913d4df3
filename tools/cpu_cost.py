#!/usr/bin/env python3
"""What a training run's steps cost in CPU, the network stack's share included.

  tools/cpu_cost.py sample --out=FILE --exe=TRAINER --ranks=N [--interval_ms=25]
  tools/cpu_cost.py per_step SAMPLES MERGED_TRACE.json [--from_step=N]

sample: until SIGTERM, every INTERVAL writes one line to FILE: the Unix time, the jiffies of
/proc/stat's `cpu` line (all cores), and "RANK:UTIME:STIME" (jiffies, /proc/PID/stat) for every
process running TRAINER, its rank taken from OMPI_COMM_WORLD_RANK in its environment; last
"self:UTIME:STIME", the sampler's own. A first line "# clk_tck=C cores=K" gives the units.
/proc/stat is machine-wide: the ranks' network namespace separates their network, not their CPU
accounting, so its figures include whatever else runs on the machine (hence the "other" column).

per_step: over the window from the first rank's start of step N to the last rank's end of the
last step (the ranks' traces share the Unix epoch as their clock), prints one line of ms per
step (CPU time over the window's samples, scaled to the window's length / its step count):

  period softirq system user nice irq iowait steal idle ranks_user ranks_system other
  self busy_over_cores RANK:USER:SYSTEM...

period: window length / steps. Machine-wide figures add up both (all) cores, so they sum to
period x cores. other = busy - ranks' user and system, busy = user + nice + system + irq +
softirq (what ran besides the ranks: mpirun, the samplers, any other job). Without
CONFIG_IRQ_TIME_ACCOUNTING the kernel charges a tick spent in a softirq to the task it
interrupted as system time as well as to /proc/stat's softirq, so a rank's system time can
include network work done for another rank. Only the samples inside the window are used
(INTERVAL is a small part of it), and every rank must be in them.
"""
import json
import os
import signal
import sys
import time

CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
BUSY_FIELDS = ("user", "nice", "system", "irq", "softirq")


def fail(message):
    sys.exit(f"cpu_cost: {message}")


def number(flags, name, default, kind=int):
    try:
        return kind(flags.get(name, default))
    except ValueError:
        fail(f"--{name}: not a number: {flags[name]!r}")


def flags_and_positional(argv, known):
    flags, positional = {}, []
    for arg in argv:
        if arg.startswith("--"):
            name, _, value = arg[2:].partition("=")
            if name not in known:
                fail(f"unknown flag {arg}")
            flags[name] = value
        else:
            positional.append(arg)
    return flags, positional


def read_cpu_line():
    with open("/proc/stat") as stat:
        fields = stat.readline().split()
    return [int(value) for value in fields[1:1 + len(CPU_FIELDS)]]


def read_times(pid):
    """utime, stime of PID in jiffies (its threads included), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            after_name = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(after_name[11]), int(after_name[12])  # fields 14 and 15 of proc(5)


def find_ranks(exe):
    """{pid: rank} of the processes running EXE."""
    ranks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/exe") != exe:
                continue
            with open(f"/proc/{entry}/environ", "rb") as environ:
                variables = environ.read().split(b"\0")
        except OSError:
            continue  # gone, or not ours to read
        for variable in variables:
            if variable.startswith(b"OMPI_COMM_WORLD_RANK="):
                ranks[int(entry)] = int(variable.split(b"=", 1)[1])
    return ranks


def sample(argv):
    flags, positional = flags_and_positional(argv, {"out", "exe", "ranks", "interval_ms"})
    if positional or not {"out", "exe", "ranks"} <= flags.keys():
        fail("usage: " + " ".join(__doc__.strip().splitlines()[2].split()))
    exe, ranks_wanted = os.path.realpath(flags["exe"]), number(flags, "ranks", None)
    interval = number(flags, "interval_ms", "25", float) / 1000
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    ranks = {}
    with open(flags["out"], "w", buffering=1) as out:
        out.write(f"# clk_tck={os.sysconf('SC_CLK_TCK')} cores={os.cpu_count()}\n")
        while not stop:
            # Looked for until all have started (the ranks exec from Open MPI's daemon, so a
            # process found early may not be the trainer yet); then only theirs are read.
            if len(ranks) < ranks_wanted:
                ranks = find_ranks(exe)
            now = time.time()
            fields = [f"{now:.6f}"] + [str(value) for value in read_cpu_line()]
            for pid, rank in sorted(ranks.items(), key=lambda item: item[1]):
                times = read_times(pid)
                if times is not None:
                    fields.append(f"{rank}:{times[0]}:{times[1]}")
            own = os.times()
            clk_tck = os.sysconf("SC_CLK_TCK")
            fields.append(f"self:{round(own.user * clk_tck)}:{round(own.system * clk_tck)}")
            out.write(" ".join(fields) + "\n")
            time.sleep(interval)


def read_samples(path):
    """(clk_tck, cores, [(unix_seconds, {cpu field: jiffies}, {rank: (u, s)}, (self u, s))])."""
    samples, units = [], None
    try:
        with open(path) as lines:
            for number, line in enumerate(lines, 1):
                if line.startswith("#"):
                    units = dict(item.split("=") for item in line[1:].split())
                    continue
                fields = line.split()
                try:
                    when = float(fields[0])
                    cpu = dict(zip(CPU_FIELDS, map(int, fields[1:1 + len(CPU_FIELDS)])))
                    ranks, own = {}, None
                    for item in fields[1 + len(CPU_FIELDS):]:
                        who, user, system = item.split(":")
                        if who == "self":
                            own = (int(user), int(system))
                        else:
                            ranks[int(who)] = (int(user), int(system))
                    if len(cpu) != len(CPU_FIELDS) or own is None:
                        raise ValueError
                except (ValueError, IndexError):
                    fail(f"{path}:{number}: expected 'unix_seconds {' '.join(CPU_FIELDS)} "
                         f"RANK:UTIME:STIME... self:UTIME:STIME', got {line.strip()!r}")
                samples.append((when, cpu, ranks, own))
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    if units is None or "clk_tck" not in units or "cores" not in units:
        fail(f"{path}: no '# clk_tck=C cores=K' line")
    return int(units["clk_tck"]), int(units["cores"]), samples


def per_step(argv):
    flags, positional = flags_and_positional(argv, {"from_step"})
    if len(positional) != 2:
        fail("usage: " + " ".join(__doc__.strip().splitlines()[3].split()))
    samples_path, trace_path = positional
    from_step = number(flags, "from_step", "4")
    try:
        with open(trace_path) as trace:
            events = [e for e in json.load(trace)["traceEvents"] if e.get("ph") == "X"]
    except (OSError, ValueError, KeyError) as error:
        fail(f"cannot read the trace {trace_path}: {error}")
    steps = [e for e in events if e["name"] == "step" and e["args"]["step"] >= from_step]
    if not steps:
        fail(f"{trace_path}: no step at or after {from_step}")
    ranks = sorted({e["pid"] for e in events if e["name"] == "step"})
    count = len({e["args"]["step"] for e in steps})
    begin = min(e["ts"] for e in steps) / 1e6
    end = max(e["ts"] + e["dur"] for e in steps) / 1e6
    period = (end - begin) / count

    clk_tck, cores, samples = read_samples(samples_path)
    inside = [s for s in samples if begin <= s[0] <= end and set(ranks) <= s[2].keys()]
    if len(inside) < 2:
        fail(f"{samples_path}: fewer than two samples with every rank ({len(ranks)}) in the "
             f"window {begin:.3f}..{end:.3f} s")
    first, last = inside[0], inside[-1]
    # jiffies over the samples' span -> ms per step.
    scale = 1000 / clk_tck / (last[0] - first[0]) * period

    def delta(field):
        return (last[1][field] - first[1][field]) * scale

    figures = {field: delta(field) for field in CPU_FIELDS}
    busy = sum(figures[field] for field in BUSY_FIELDS)
    per_rank = {rank: tuple((last[2][rank][k] - first[2][rank][k]) * scale for k in (0, 1))
                for rank in ranks}
    ranks_user = sum(user for user, _ in per_rank.values())
    ranks_system = sum(system for _, system in per_rank.values())
    own = sum(last[3][k] - first[3][k] for k in (0, 1)) * scale
    line = [period * 1000] + [figures[f] for f in ("softirq", "system", "user", "nice", "irq",
                                                    "iowait", "steal", "idle")]
    line += [ranks_user, ranks_system, busy - ranks_user - ranks_system, own, busy / cores]
    print(" ".join(f"{value:.1f}" for value in line) + " " +
          " ".join(f"{rank}:{user:.1f}:{system:.1f}" for rank, (user, system)
                   in per_rank.items()))


def main(argv):
    commands = {"sample": sample, "per_step": per_step}
    if len(argv) < 2 or argv[1] not in commands:
        fail("usage:\n" + "\n".join(__doc__.strip().splitlines()[2:4]))
    commands[argv[1]](argv[2:])


if __name__ == "__main__":
    main(sys.argv)
