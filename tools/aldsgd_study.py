#!/usr/bin/env python3
"""The paired analysis of tools/compare_algorithms.sh --study (issue 16): for each pairing A vs B
of runs/PAIRINGS, the per-seed differences A - B of several measures, their mean and a 95%
t-interval, and the verdict on each of the AL-DSGD paper's claims. Writes OUT/study.md and one
PNG per pairing (mean curves over the seeds); standard library only, plots through gnuplot.
"""
import math
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_algorithms import load_run  # noqa: E402  (the one reader of a run's CSV and JSON)

# Two-sided 95% quantiles of Student's t, by degrees of freedom (beyond 30: the normal's).
T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
# matcha8's degree-1 worker (DESIGN.md's degrees [3, 5, 2, 4, 1, 2, 3, 4]).
DEGREE1_WORKER = 4
TARGETS = (0.90, 0.95, 0.98)  # epochs to these fractions of the best final accuracy


def interval(differences):
    """(mean, low, high) of the 95% t-interval; low = high = None with fewer than 2 values."""
    mean = statistics.fmean(differences)
    if len(differences) < 2:
        return mean, None, None
    t = T_975[len(differences) - 2] if len(differences) - 1 <= len(T_975) else 1.96
    half = t * statistics.stdev(differences) / math.sqrt(len(differences))
    return mean, mean - half, mean + half


def verdict(low, high, first="A", second="B"):
    """Reads an interval of first - second: who is ahead, or "not separable"."""
    if low is None:
        return "too few seeds"
    if low > 0:
        return first + " ahead"
    if high < 0:
        return second + " ahead"
    return "not separable"


def measures(evals, best_final):
    """What a run is compared on; None where a run never gets there."""
    last_step_epoch = evals[-1]["epoch"]
    # Before the first decay (the step schedule's is at half the run): the early phase.
    early = [e["mean_acc"] for e in evals if e["epoch"] <= 0.5 * last_step_epoch + 1e-9]
    final = evals[-1]
    result = {
        "final accuracy": final["mean_acc"],
        "early accuracy (mean before the first decay)": statistics.fmean(early or [evals[0]["mean_acc"]]),
        "worst worker, final": min(final["worker_acc"].values()),
        "degree-1 worker, final": final["worker_acc"].get(DEGREE1_WORKER),
    }
    for target in TARGETS:
        result["epochs to %d%% of best" % round(100 * target)] = next(
            (e["epoch"] for e in evals if e["mean_acc"] >= target * best_final), None)
    return result


def main(out):
    runs_dir = os.path.join(out, "runs")
    pairings = []
    with open(os.path.join(runs_dir, "PAIRINGS")) as f:
        for line in f:
            if line.strip():
                pairings.append(line.split())
    names = sorted(n[:-5] for n in os.listdir(runs_dir) if n.endswith(".json"))
    runs = {}
    for name in names:
        if os.path.exists(os.path.join(runs_dir, name + ".csv")):
            runs[name] = load_run(out, name)[1]
    if not runs:
        sys.exit("aldsgd_study: no finished runs in %s" % runs_dir)
    best_final = max(evals[-1]["mean_acc"] for evals in runs.values())
    measured = {name: measures(evals, best_final) for name, evals in runs.items()}

    def seeds_of(variant):
        return {n.rsplit("_seed", 1)[1] for n in runs if n.rsplit("_seed", 1)[0] == variant}

    def differences(a, b, measure):
        values = []
        for seed in sorted(seeds_of(a) & seeds_of(b)):
            x, y = measured[a + "_seed" + seed][measure], measured[b + "_seed" + seed][measure]
            if x is not None and y is not None:
                values.append(x - y)
        return values

    def shown(value, percent):
        if value is None:
            return "-"
        return "%+.2f" % (100 * value) if percent else "%+.2f" % value

    lines = ["Paired differences A - B over seeds (accuracy in points, epochs in epochs; 95%% "
             "t-interval; best final accuracy of any run %.2f%%)." % (100 * best_final), "",
             "| pairing (A vs B) | measure | seeds | mean A - B | 95% interval | verdict |",
             "| --- | --- | --- | --- | --- | --- |"]
    results = {}
    for name, a, b in pairings:
        for measure in measured[next(iter(measured))]:
            values = differences(a, b, measure)
            if not values:
                continue
            mean, low, high = interval(values)
            percent = "epochs" not in measure
            # Fewer epochs to a target is better: flip the sign of the verdict's reading.
            reading = verdict(low, high) if percent else verdict(
                None if low is None else -high, None if high is None else -low)
            results[(name, measure)] = (mean, low, high, reading)
            lines.append("| %s (%s vs %s) | %s | %d | %s | [%s, %s] | %s |" % (
                name, a, b, measure, len(values), shown(mean, percent), shown(low, percent),
                shown(high, percent), reading))

    # The paper's claims, each decided by one interval (A = AL-DSGD).
    def claim(text, key):
        if key not in results:
            return "| %s | no runs | |" % text
        mean, low, high, reading = results[key]
        outcome = {"A ahead": "holds", "B ahead": "fails"}.get(reading, reading)
        return "| %s | %s | %s [%s, %s] (%s) |" % (
            text, outcome, shown(mean, True), shown(low, True), shown(high, True),
            " ".join(key))
    lines += ["", "| claim of the paper | verdict | interval that decides it |", "| --- | --- | --- |",
              claim("faster early (matcha8, K = 2 for both)",
                    ("aldsgd_vs_base_k2", "early accuracy (mean before the first decay)")),
              claim("at least as accurate at the end (matcha8, K = 2 for both)",
                    ("aldsgd_vs_base_k2", "final accuracy")),
              claim("faster early against the authors' alternating D-PSGD",
                    ("aldsgd_vs_alternating_dpsgd", "early accuracy (mean before the first decay)")),
              claim("at least as accurate at the end against the authors' alternating D-PSGD",
                    ("aldsgd_vs_alternating_dpsgd", "final accuracy")),
              claim("low-degree workers no worse (matcha8's degree-1 worker)",
                    ("aldsgd_vs_base_k2", "degree-1 worker, final"))]
    # Larger gains on sparser graphs: the sparse pair's gain less matcha8's, seed by seed.
    for measure in ("early accuracy (mean before the first decay)", "final accuracy"):
        sparse = "sparse5_aldsgd_dpsgd_vs_dpsgd_k2"
        dense = "aldsgd_dpsgd_vs_dpsgd_k2"
        pairs = {p[0]: p[1:] for p in pairings}
        if sparse in pairs and dense in pairs:
            seeds = sorted(set.intersection(*(seeds_of(v) for v in pairs[sparse] + pairs[dense])))
            gains = [(measured[pairs[sparse][0] + "_seed" + s][measure]
                      - measured[pairs[sparse][1] + "_seed" + s][measure])
                     - (measured[pairs[dense][0] + "_seed" + s][measure]
                        - measured[pairs[dense][1] + "_seed" + s][measure]) for s in seeds]
            if gains:
                mean, low, high = interval(gains)
                results[("sparser_gain", measure)] = (mean, low, high, verdict(low, high))
                lines.append(claim("larger gains on sparser graphs (%s; matcha8-sparse:5 "
                                   "vs matcha8, over D-PSGD)" % measure.split(" (")[0],
                                   ("sparser_gain", measure)))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "study.md"), "w") as f:
        f.write(text)
    print(text)
    plot(out, pairings, runs, seeds_of)


def plot(out, pairings, runs, seeds_of):
    """One PNG per pairing: A's and B's mean test accuracy over the seeds against epochs."""
    script = ["set terminal pngcairo noenhanced size 900,560 font ',11'", "set key bottom right",
              "set grid", "set xlabel 'epoch'", "set ylabel 'test accuracy (mean of workers and seeds)'"]
    for name, a, b in pairings:
        series = []
        for variant in (a, b):
            seeds = sorted(seeds_of(variant) & seeds_of(b if variant == a else a))
            if not seeds:
                continue
            curves = [runs[variant + "_seed" + s] for s in seeds]
            points = min(len(c) for c in curves)
            data = os.path.join(out, "runs", "%s_%s.mean.dat" % (name, variant))
            with open(data, "w") as f:
                for k in range(points):
                    f.write("%.4f %.6f\n" % (curves[0][k]["epoch"],
                                             statistics.fmean(c[k]["mean_acc"] for c in curves)))
            series.append("'%s' using 1:2 with linespoints title '%s (%d seeds)'" % (
                data, variant, len(seeds)))
        if series:
            script += ["set output '%s'" % os.path.join(out, "study_%s.png" % name),
                       "set title '%s'" % name, "plot " + ", ".join(series)]
    try:
        subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        print("plots skipped: gnuplot failed (%s)" % error, file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
