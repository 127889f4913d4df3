#!/usr/bin/env python3
"""AL-DSGD against its base over several seeds of tools/cluster_compare.sh, paired by seed.

  cluster_seeds.py OUT... --settings="slow gbit" --targets="0.4 0.5 0.6 0.7" [--title=TEXT]

Each OUT is one cluster_compare.sh --out, run with its own --seed and otherwise the same flags.
Per setting and pair (AL-DSGD over MATCHA or D-PSGD against that base, in the same combine order)
it prints the per-seed values and the 95% t-interval of:
  - the step-time ratio base/AL-DSGD (> 1: AL-DSGD's step is shorter), a geometric mean;
  - training seconds to the highest target that both runs reached in every seed, base - AL-DSGD
    (> 0: AL-DSGD got there sooner);
  - final accuracy, AL-DSGD - base, in points.
Standard library only.
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aldsgd_study import interval, verdict  # noqa: E402  (the one 95% t-interval, read)
from cluster_compare import PAIRS, run_row  # noqa: E402  (the one reader of a cluster run)


def pairs_of(outs, setting, targets):
    """{(aldsgd, base, combine): [(seed label, AL-DSGD row, base row)]} over the OUT directories
    that hold both runs of a pair."""
    found = {}
    for out in outs:
        runs_dir = os.path.join(out, setting, "runs")
        for aldsgd, base in PAIRS:
            for combine in ("atc", "awc"):
                a, b = "%s_%s" % (aldsgd, combine), "%s_%s" % (base, combine)
                if not all(os.path.exists(os.path.join(runs_dir, n + ".json")) for n in (a, b)):
                    continue
                found.setdefault((aldsgd, base, combine), []).append(
                    (os.path.basename(os.path.normpath(out)),
                     run_row(setting, runs_dir, a, targets), run_row(setting, runs_dir, b, targets)))
    return found


def measures(seeds, targets):
    """[(name, per-seed values, mean, low, high, shown)] for one pair."""
    rows = []
    log_ratios = [math.log(b["step_ms"] / a["step_ms"]) for _, a, b in seeds]
    mean, low, high = interval(log_ratios)
    rows.append(("step-time ratio base/AL-DSGD", [math.exp(v) for v in log_ratios],
                 math.exp(mean), None if low is None else math.exp(low),
                 None if high is None else math.exp(high), "%.2fx", 1.0))
    reached = [t for t in targets
               if all(a["seconds_to"][t] is not None and b["seconds_to"][t] is not None
                      for _, a, b in seeds)]
    if reached:
        t = max(reached)
        values = [b["seconds_to"][t] - a["seconds_to"][t] for _, a, b in seeds]
        rows.append(("seconds to %.0f%%, base - AL-DSGD" % (100 * t), values) +
                    interval(values) + ("%+.1f s", 0.0))
    values = [100 * (a["final_accuracy"] - b["final_accuracy"]) for _, a, b in seeds]
    rows.append(("final accuracy, AL-DSGD - base", values) + interval(values) + ("%+.1f pt", 0.0))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outs", nargs="+")
    parser.add_argument("--settings", required=True)
    parser.add_argument("--targets", required=True)
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    targets = sorted(float(t) for t in args.targets.split())
    lines = ["Paired over seeds%s: AL-DSGD against its base, 95%% t-intervals." % (
        " (%s)" % args.title if args.title else ""), "",
        "| setting | AL-DSGD | base | combine | measure | seeds | per seed | mean | 95% interval "
        "| verdict |", "| --- " * 10 + "|"]
    for setting in args.settings.split():
        for (aldsgd, base, combine), seeds in sorted(pairs_of(args.outs, setting, targets).items()):
            for name, values, mean, low, high, form, neutral in measures(seeds, targets):
                # The verdict reads the interval against the value that means "no difference".
                reading = verdict(None if low is None else low - neutral,
                                  None if high is None else high - neutral, "AL-DSGD", "base")
                lines.append("| %s | %s | %s | %s | %s | %d | %s | %s | %s | %s |" % (
                    setting, aldsgd, base, combine, name, len(values),
                    ", ".join(form % v for v in values), form % mean,
                    "-" if low is None else "[%s, %s]" % (form % low, form % high), reading))
    if len(lines) == 4:
        sys.exit("cluster_seeds.py: no pair of AL-DSGD and its base in %s" % " ".join(args.outs))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
