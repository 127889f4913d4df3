#!/usr/bin/env python3
"""The report of tools/cluster_compare.sh: time to accuracy per network setting.

  cluster_compare.py OUT --settings="lan gbit slow hetero" --targets="0.6 0.7 0.75" \
      [--topology=matcha8]

Reads OUT/SETTING/runs/NAME.{json,csv,overlap,cpu.RANK,load} (the runs' summaries and metrics
as tools/compare_algorithms.py reads them, //tools:overlap's report, each rank's CPU seconds,
the load average before and after) and writes OUT/results.md, OUT/results.csv and one plot per
setting, OUT/SETTING_accuracy_vs_train_seconds.png. Standard library only; gnuplot for plots.
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_algorithms  # noqa: E402  (its run loading and plotting)

SETTING_TEXT = {
    "lan": "10 Gbit/s per host",
    "gbit": "1 Gbit/s per host",
    "slow": "100 Mbit/s per host",
    "wan": "100 Mbit/s per host, 20 ms one-way delay",
    "hetero": "1 Gbit/s; hosts 1 and 4 at 100 Mbit/s",
}
# What the hetero setting's slow hosts are in the paper's graph.
MATCHA8_HETERO_TEXT = "1 Gbit/s; hosts 1 (degree 5) and 4 (degree 1) at 100 Mbit/s"
# AL-DSGD against the base it runs over, in the same combine order.
PAIRS = (("aldsgd_matcha", "matcha"), ("aldsgd_dpsgd", "dpsgd"))
# One seed: differences below these are not read as differences. Time: the other agents on the
# machine move a run's step time by 10-20% from one run to the next (the load average beside each
# run shows it). Accuracy: on 1000 test images, an accuracy near 65% has a binomial standard
# error of 1.5 points.
TIME_RATIO_NOISE = 0.20
ACCURACY_NOISE = 0.02
WARMUP_STEPS = 2         # left out of the per-step figures (first steps build plans, connect)


def overlap_means(path):
    """Means over steps >= WARMUP_STEPS of //tools:overlap's per-step lines (ms):
    wall, compute, comm, exposed."""
    sums, n, in_steps = [0.0] * 4, 0, False
    with open(path) as f:
        for line in f:
            fields = line.split()
            if line.startswith("step "):
                in_steps = True
            elif line.startswith("average"):
                break
            elif in_steps and fields and fields[0].isdigit() and int(fields[0]) >= WARMUP_STEPS:
                sums = [s + float(v) for s, v in zip(sums, fields[1:5])]
                n += 1
    if n == 0:
        raise ValueError("%s: no steps at or after step %d" % (path, WARMUP_STEPS))
    return dict(zip(("wall", "compute", "comm", "exposed"), (s / n for s in sums)))


def cpu_seconds(runs_dir, name):
    """(user, system) CPU seconds summed over the ranks (/usr/bin/time's last line, "USER SYS"),
    and how many ranks were timed."""
    user_total, system_total, ranks = 0.0, 0.0, 0
    for entry in sorted(os.listdir(runs_dir)):
        if entry.startswith(name + ".cpu."):
            with open(os.path.join(runs_dir, entry)) as f:
                user, system = f.read().split("\n")[-2].split()
            user_total, system_total = user_total + float(user), system_total + float(system)
            ranks += 1
    return user_total, system_total, ranks


def softirq_seconds(runs_dir, name):
    """The machine's softirq seconds during the run (where the emulated network's packets are
    processed); None for a run from before it was recorded."""
    path = os.path.join(runs_dir, name + ".softirq")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return float(f.read().split()[0])


def load_average(runs_dir, name):
    """The 1-minute load average before and after the run."""
    with open(os.path.join(runs_dir, name + ".load")) as f:
        return [float(line.split()[0]) for line in f if line.strip()]


def run_row(setting, runs_dir, name, targets):
    summary, evals = compare_algorithms.load_run(os.path.dirname(runs_dir), name)
    steps = summary["steps"]
    means = overlap_means(os.path.join(runs_dir, name + ".overlap"))
    user, system, ranks = cpu_seconds(runs_dir, name)
    softirq = softirq_seconds(runs_dir, name)
    load = load_average(runs_dir, name)
    return {
        "setting": setting,
        "run": name,
        "final_accuracy": evals[-1]["mean_acc"],
        "seconds_to": {t: next((e["wall"] for e in evals if e["mean_acc"] >= t), None)
                       for t in targets},
        "train_seconds": evals[-1]["wall"],
        "steps": steps,
        "step_ms": 1000 * evals[-1]["wall"] / steps,
        "compute_ms": means["compute"],
        "comm_ms": means["comm"],
        "exposed_ms": means["exposed"],
        "mb_sent_per_worker": summary["bytes_sent_per_worker"] / 1e6,
        "mb_sent_busiest_worker": (None if evals[-1]["max_bytes_sent"] is None
                                   else evals[-1]["max_bytes_sent"] / 1e6),
        "cpu_seconds": user + system,
        # The network stack's CPU per rank and step: the ranks' system time (sockets, MPI's TCP
        # transport) and the machine's softirq time (packet processing, tc), shared out evenly.
        "system_ms_per_rank_step": 1000 * system / max(1, ranks) / steps,
        "softirq_ms_per_rank_step": None if softirq is None else 1000 * softirq / 8 / steps,
        "network_stack_share": (system + (softirq or 0)) / max(1e-9, user),
        "ranks_timed": ranks,
        "load_before": load[0],
        "load_after": load[-1],
        "evals": evals,
    }


def compare(a, b, targets):
    """AL-DSGD run a against base run b: (time ratio b/a at the highest target both reached or
    None, that target, final accuracy difference a - b)."""
    both = [t for t in targets if a["seconds_to"][t] is not None and b["seconds_to"][t] is not None]
    if not both:
        return None, None, a["final_accuracy"] - b["final_accuracy"]
    t = max(both)
    return b["seconds_to"][t] / a["seconds_to"][t], t, a["final_accuracy"] - b["final_accuracy"]


def verdict(ratio, difference):
    faster = ratio is not None and ratio > 1 + TIME_RATIO_NOISE
    slower = ratio is not None and ratio < 1 / (1 + TIME_RATIO_NOISE)
    better, worse = difference > ACCURACY_NOISE, difference < -ACCURACY_NOISE
    if (faster or better) and not (slower or worse):
        return "AL-DSGD ahead"
    if (slower or worse) and not (faster or better):
        return "base ahead"
    if not (faster or slower or better or worse):
        return "not separable (one seed, differences small)"
    return "mixed (faster on one measure, slower on the other)"


def pct(v):
    return "never" if v is None else "%.1f%%" % (100 * v)


def seconds(v):
    return "never" if v is None else "%.0f" % v


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--settings", required=True)
    parser.add_argument("--targets", required=True)
    parser.add_argument("--topology", default="matcha8")
    args = parser.parse_args()
    setting_text = dict(SETTING_TEXT)
    if args.topology == "matcha8":
        setting_text["hetero"] = MATCHA8_HETERO_TEXT
    targets = sorted(float(t) for t in args.targets.split())
    table = [
        "| setting | run | final acc | " + " | ".join("s to %s" % pct(t) for t in targets) +
        " | train s | step ms | compute ms/step | comm ms/step | exposed ms/step | comm/compute "
        "| MB sent/worker | MB sent by the busiest worker | CPU s (8 ranks) | system ms/step/rank "
        "| softirq ms/step/rank | (system + softirq) / user | load avg before/after |",
        "| --- " * (16 + len(targets)) + "|",
    ]
    verdicts = [
        "| setting | comm/compute (mean of runs) | AL-DSGD | base | combine | time ratio base/AL-DSGD "
        "(target) | final acc AL-DSGD - base | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows, plots = [], []
    for setting in args.settings.split():
        runs_dir = os.path.join(args.out, setting, "runs")
        if not os.path.isdir(runs_dir):
            print("cluster_compare.py: no runs for setting %s (%s)" % (setting, runs_dir),
                  file=sys.stderr)
            continue
        names = sorted(n[:-5] for n in os.listdir(runs_dir)
                       if n.endswith(".json") and "." not in n[:-5])  # not NAME.summary.json
        by_name = {n: run_row(setting, runs_dir, n, targets) for n in names}
        for r in by_name.values():
            rows.append(r)
            table.append(
                "| %s | %s | %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.1f | %s | %.0f%s | "
                "%.1f | %s | %.2f | %.1f / %.1f |" % (
                    setting, r["run"], pct(r["final_accuracy"]),
                    " | ".join(seconds(r["seconds_to"][t]) for t in targets), r["train_seconds"],
                    r["step_ms"], r["compute_ms"], r["comm_ms"], r["exposed_ms"],
                    r["comm_ms"] / r["compute_ms"], r["mb_sent_per_worker"],
                    "-" if r["mb_sent_busiest_worker"] is None
                    else "%.1f" % r["mb_sent_busiest_worker"], r["cpu_seconds"],
                    "" if r["ranks_timed"] == 8 else " (%d ranks)" % r["ranks_timed"],
                    r["system_ms_per_rank_step"],
                    "-" if r["softirq_ms_per_rank_step"] is None
                    else "%.1f" % r["softirq_ms_per_rank_step"],
                    r["network_stack_share"], r["load_before"], r["load_after"]))
            compare_algorithms.write_dat(os.path.join(runs_dir, r["run"] + ".dat"), r["evals"])
        ratio_of_setting = sum(r["comm_ms"] / r["compute_ms"] for r in by_name.values()) / max(
            1, len(by_name))
        for aldsgd, base in PAIRS:
            for combine in ("atc", "awc"):
                a, b = by_name.get("%s_%s" % (aldsgd, combine)), by_name.get("%s_%s" % (base, combine))
                if a is None or b is None:
                    continue
                ratio, target, difference = compare(a, b, targets)
                verdicts.append("| %s | %.2f | %s | %s | %s | %s | %+.1f pt | %s |" % (
                    setting, ratio_of_setting, aldsgd, base, combine,
                    "no common target" if ratio is None else "%.2f (%s)" % (ratio, pct(target)),
                    100 * difference, verdict(ratio, difference)))
        plots += compare_algorithms.plot_lines(
            os.path.join(args.out, "%s_accuracy_vs_train_seconds.png" % setting),
            "%s (%s), 8 hosts, %s" % (setting, setting_text.get(setting, setting), args.topology),
            "training seconds (evaluation excluded)", "test accuracy (mean of workers)",
            [(os.path.join(runs_dir, n + ".dat"), 2, 3, n) for n in names])
    if not rows:
        sys.exit("cluster_compare.py: no finished runs under %s" % args.out)
    lines = (["Time to accuracy on 8 emulated hosts, topology %s (training seconds, evaluation "
              "excluded). Per-step figures are means over ranks and steps >= %d."
              % (args.topology, WARMUP_STEPS), ""] +
             table + ["", "The paper's claim per setting: AL-DSGD against its base "
                      "(time ratio > 1: AL-DSGD reached the target sooner; a time ratio within "
                      "+-%d%% and a final accuracy within %d points are not read as differences)."
                      % (100 * TIME_RATIO_NOISE, 100 * ACCURACY_NOISE), ""] + verdicts)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        fields = [k for k in rows[0] if k not in ("evals", "seconds_to")]
        writer = csv.writer(f)
        writer.writerow(fields + ["seconds_to_%g" % t for t in targets])
        for r in rows:
            writer.writerow([r[k] for k in fields] + [r["seconds_to"][t] for t in targets])
    print("\n".join(lines))
    compare_algorithms.run_gnuplot(plots)


if __name__ == "__main__":
    main()
