#!/usr/bin/env python3
"""How busy the link was, by how many send lanes had a model transfer in flight.

  tools/link_by_lanes.py MERGED_TRACE.json LINK_SAMPLES BYTES_PER_SECOND [--from_step=N]
      [--summary=FILE]

MERGED_TRACE.json: the ranks' traces in one file (tools/shaped_training_bench.sh writes it; the
ranks share the Unix epoch as their clock). LINK_SAMPLES: //tools:link_sampler's output for the
same run ("unix_seconds tx_bytes" lines). A lane is one (rank, peer) pair; it is busy from the
post of a model send of at least 64 KiB (the MPI communicator queues those one at a time per
peer) to its completion. Over the window from rank 0's step N to its last step, every
millisecond is put in the row of its number of busy lanes, and the row says what share of the
window it covers and what share of the link's rate the device sent in it on average.
--summary=FILE also writes one line there: "LANES ALL_TIME% ALL_USE% FEWER_TIME% FEWER_USE%",
the figures with the most lanes busy that any millisecond had, and with fewer.

If the link runs near its rate whenever every lane is busy but well below it when few are, the
transfers in flight are too few, or each moves too slowly, to fill the link; that is what it
shows for ResNet-20 on the 2-core machine (README, "Shaped-network benchmark").
"""
import bisect
import collections
import json
import sys

MIN_LANE_BYTES = 64 * 1024  # comm/mpi_communicator.cc's kLaneMinBytes
SLOT_US = 1000


def fail(message):
    sys.exit(f"link_by_lanes: {message}")


def read_samples(path):
    times, sent = [], []
    try:
        with open(path) as samples:
            for number, line in enumerate(samples, 1):
                fields = line.split()
                if len(fields) != 2:
                    fail(f"{path}:{number}: expected 'unix_seconds tx_bytes', got {line!r}")
                times.append(float(fields[0]))
                sent.append(float(fields[1]))
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    if len(times) < 2:
        fail(f"{path}: fewer than two samples")
    return times, sent


def bytes_until(times, sent, when):
    """The device's sent-bytes counter at `when` (seconds), interpolated between samples."""
    k = bisect.bisect_left(times, when)
    if k <= 0:
        return sent[0]
    if k >= len(times):
        return sent[-1]
    fraction = (when - times[k - 1]) / (times[k] - times[k - 1])
    return sent[k - 1] + fraction * (sent[k] - sent[k - 1])


def main(argv):
    from_step, summary_path = 4, None
    positional = []
    for arg in argv[1:]:
        if arg.startswith("--from_step="):
            from_step = int(arg.split("=", 1)[1])
        elif arg.startswith("--summary="):
            summary_path = arg.split("=", 1)[1]
        else:
            positional.append(arg)
    if len(positional) != 3:
        fail("usage: " + " ".join(line.strip() for line in __doc__.strip().splitlines()[2:4]))
    trace_path, samples_path, rate = positional
    rate = float(rate)
    try:
        with open(trace_path) as trace:
            events = [e for e in json.load(trace)["traceEvents"] if e.get("ph") == "X"]
    except (OSError, ValueError, KeyError) as error:
        fail(f"cannot read the trace {trace_path}: {error}")
    times, sent = read_samples(samples_path)

    steps = sorted((e["ts"], e["ts"] + e["dur"]) for e in events
                   if e["name"] == "step" and e["pid"] == 0 and e["args"]["step"] >= from_step)
    if not steps:
        fail(f"{trace_path}: rank 0 has no step at or after {from_step}")
    begin, end = steps[0][0], steps[-1][1]
    slots = int((end - begin) // SLOT_US)
    busy = [set() for _ in range(slots)]
    for e in events:
        # Adapt-with-combine sends its models as "pre-step model".
        if e["name"] != "send" or e["args"].get("kind") not in ("model", "pre-step model"):
            continue
        if e["args"]["bytes"] < MIN_LANE_BYTES:
            continue
        first = max(0, int((e["ts"] - begin) // SLOT_US))
        last = min(slots, -(-(e["ts"] + e["dur"] - begin) // SLOT_US))  # the slot it ends in
        for slot in range(first, last):
            busy[slot].add((e["pid"], e["args"]["peer"]))

    rows = collections.defaultdict(lambda: [0, 0.0])
    for slot in range(slots):
        start = (begin + slot * SLOT_US) / 1e6
        carried = bytes_until(times, sent, start + SLOT_US / 1e6) - bytes_until(times, sent, start)
        row = rows[len(busy[slot])]
        row[0] += 1
        row[1] += carried / (SLOT_US / 1e6) / rate
    print(f"busy send lanes | share of time | link use (window: rank 0's steps {from_step}.., "
          f"{slots} ms)")
    print("--- | --- | ---")
    for lanes in sorted(rows):
        count, use = rows[lanes]
        print(f"{lanes} | {100 * count / slots:.1f}% | {100 * use / count:.0f}%")
    if summary_path is not None:
        most = max(rows)
        fewer_count = sum(count for lanes, (count, _) in rows.items() if lanes < most)
        fewer_use = sum(use for lanes, (_, use) in rows.items() if lanes < most)
        try:
            with open(summary_path, "w") as summary:
                summary.write(
                    f"{most} {100 * rows[most][0] / slots:.0f}%"
                    f" {100 * rows[most][1] / rows[most][0]:.0f}%"
                    f" {100 * fewer_count / slots:.0f}%"
                    f" {100 * fewer_use / fewer_count if fewer_count else 0:.0f}%\n")
        except OSError as error:
            fail(f"cannot write {summary_path}: {error.strerror}")


if __name__ == "__main__":
    main(sys.argv)
