#!/usr/bin/env python3
"""Aggregates tools/compare_algorithms.sh's runs into results.csv, results.md and PNG plots.

Standard library only (any python3); plots through gnuplot (Debian's gnuplot-nox).
"""
import collections
import csv
import json
import os
import subprocess
import sys

# matcha8's base degrees (DESIGN.md); worker 4 has a single neighbour.
MATCHA8_DEGREES = [3, 5, 2, 4, 1, 2, 3, 4]


def load_run(out, name):
    with open(os.path.join(out, "runs", name + ".json")) as f:
        summary = json.load(f)
    per_eval = collections.OrderedDict()  # (epoch, step) -> rows of that evaluation
    with open(os.path.join(out, "runs", name + ".csv")) as f:
        for row in csv.DictReader(f):
            per_eval.setdefault((int(row["epoch"]), int(row["step"])), []).append(row)
    # Evaluations may come several times per epoch (--eval_every): place them at fractional
    # epochs, step / steps-per-epoch (every epoch has the same number of steps).
    steps_per_epoch = summary["steps"] / max(1, summary["epochs"])
    evals = []
    for (_, step), rows in per_eval.items():
        accs = [float(r["test_accuracy"]) for r in rows]
        evals.append({
            "epoch": step / steps_per_epoch,
            # Training time only (evaluations and checkpoints excluded); CSVs written before the
            # train_seconds column have the wall clock alone.
            "wall": float(rows[0].get("train_seconds") or rows[0]["wall_seconds"]),
            "mean_acc": sum(accs) / len(accs),
            "worker_acc": {int(r["worker"]): float(r["test_accuracy"]) for r in rows},
            "loss": sum(float(r["train_loss"]) for r in rows) / len(rows),
            "average_model": float(rows[0]["average_model_accuracy"] or "nan"),
            # Bytes sent so far by the worker that sent the most: on a network where each host
            # has its own link, that worker's link sets the step (None before the column).
            "max_bytes_sent": max((int(r["bytes_sent"]) for r in rows if r.get("bytes_sent")),
                                  default=None),
            # AL-DSGD's leader diagnostics since the previous evaluation, summed over the
            # workers (CSVs before these columns, and algorithms without leaders: None).
            "leaders": leader_sums(rows),
        })
    return summary, evals


LEADER_COLUMNS = ("leader_steps", "loss_leader_changes", "degree_leader_changes",
                  "own_loss_leader", "own_degree_leader")


def leader_sums(rows):
    if not rows[0].get("leader_steps"):
        return None
    return {c: sum(int(r[c]) for r in rows) for c in LEADER_COLUMNS}


def leader_rates(evals):
    """Over the whole run: (adjacent-leader changes, own adjacent leader) per leader step."""
    sums = [e["leaders"] for e in evals if e["leaders"]]
    steps = sum(s["leader_steps"] for s in sums)
    if not steps:
        return None, None
    return (sum(s["loss_leader_changes"] for s in sums) / steps,
            sum(s["own_loss_leader"] for s in sums) / steps)


def main(out, lr):
    names = sorted(n[:-5] for n in os.listdir(os.path.join(out, "runs"))
                   if n.endswith(".json") and not n.startswith("tune_"))
    runs = {n: load_run(out, n) for n in names}
    best_final = max(e[-1]["mean_acc"] for _, e in runs.values())
    rows = []
    for name, (summary, evals) in runs.items():
        topology, algo = name.split("_", 1)
        def epochs_to(fraction):
            return next((e["epoch"] for e in evals if e["mean_acc"] >= fraction * best_final),
                        None)
        final = evals[-1]
        low = None
        if topology == "matcha8":
            low = final["worker_acc"].get(MATCHA8_DEGREES.index(1))
        rows.append({
            "topology": topology,
            "algorithm": algo,
            "final_test_accuracy": final["mean_acc"],
            "min_worker_accuracy": min(final["worker_acc"].values()),
            "degree1_worker_accuracy": low,
            "average_model_accuracy": final["average_model"],
            "epochs_to_90pct_of_best": epochs_to(0.90),
            # 90% is reached within the first evaluation on Fashion-MNIST; 98% separates more.
            "epochs_to_98pct_of_best": epochs_to(0.98),
            "wall_seconds": summary["wall_seconds"],
            "bytes_sent_per_worker": summary["bytes_sent_per_worker"],
            "loss_leader_change_rate": leader_rates(evals)[0],
            "own_loss_leader_rate": leader_rates(evals)[1],
        })
    rows.sort(key=lambda r: (r["topology"], r["algorithm"]))
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)

    def pct(v):
        return "" if v is None else "%.2f%%" % (100 * v)

    def share(v):
        return "" if v is None else "%.2f" % v

    def epochs(v):
        return "never" if v is None else "%.2g" % v

    lines = [
        "Learning rate %s (tuned on D-PSGD over matcha8), best final accuracy %.2f%%." %
        (lr, 100 * best_final), "",
        "| topology | algorithm | final test acc (mean of workers) | worst worker | degree-1 worker "
        "| average model | epochs to 90% of best | epochs to 98% of best | wall s "
        "| MB sent / worker | leader changes / step | own leader / step |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %.1f | %s | %s |" % (
            r["topology"], r["algorithm"], pct(r["final_test_accuracy"]),
            pct(r["min_worker_accuracy"]), pct(r["degree1_worker_accuracy"]),
            pct(r["average_model_accuracy"]), epochs(r["epochs_to_90pct_of_best"]),
            epochs(r["epochs_to_98pct_of_best"]), r["wall_seconds"],
            r["bytes_sent_per_worker"] / 1e6, share(r["loss_leader_change_rate"]),
            share(r["own_loss_leader_rate"])))
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    # Plots: one data file per run, one PNG per (topology, measure, x-axis).
    for name, (_, evals) in runs.items():
        write_dat(os.path.join(out, "runs", name + ".dat"), evals)
    script = []
    for topology in sorted({n.split("_", 1)[0] for n in names}):
        series = [n for n in names if n.startswith(topology + "_")]
        for column, label, suffix in ((3, "test accuracy (mean of workers)", "accuracy"),
                                      (4, "training loss (mean of workers)", "loss")):
            for x, xlabel, xname in ((1, "epoch", "epochs"), (2, "training seconds (evaluation excluded)", "wall")):
                script += plot_lines(
                    os.path.join(out, "%s_%s_vs_%s.png" % (topology, suffix, xname)),
                    "%s, 8 workers" % topology, xlabel, label,
                    [(os.path.join(out, "runs", n + ".dat"), x, column, n.split("_", 1)[1])
                     for n in series])
    run_gnuplot(script)


def write_dat(path, evals):
    """One line per evaluation: epoch, training seconds, mean test accuracy, mean loss."""
    with open(path, "w") as f:
        for e in evals:
            f.write("%.4f %.3f %.6f %.6f\n" % (e["epoch"], e["wall"], e["mean_acc"], e["loss"]))


def plot_lines(png, title, xlabel, ylabel, series):
    """gnuplot commands for one PNG; series: (data file, x column, y column, title) each."""
    plots = ", ".join("'%s' using %d:%d with linespoints title '%s'" % s for s in series)
    return ["set output '%s'" % png, "set xlabel '%s'" % xlabel, "set ylabel '%s'" % ylabel,
            "set title '%s'" % title, "plot " + plots]


def run_gnuplot(commands):
    script = ["set terminal pngcairo noenhanced size 900,560 font ',11'", "set key bottom right",
              "set grid"] + commands
    try:
        subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        print("plots skipped: gnuplot failed (%s); tools/setup.sh installs gnuplot-nox" % error,
              file=sys.stderr)

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
