#!/usr/bin/env python3
"""Plots the curves of an `s2s train --metrics run.jsonl` log, as the seeds' plots do:
loss (training and validation) and accuracy (training and validation token accuracy, and
validation exact match) per epoch. A log with step-level validations (--eval-every) or curriculum
stages is drawn against the run's elapsed seconds instead, every validation a point, each stage
boundary a dotted line.

Usage: scripts/plot_metrics.py run.jsonl -o curves.png
Needs matplotlib: python3 -m pip install matplotlib
"""
import argparse
import json
import sys


def read_metrics(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"plot_metrics: {path}:{number}: not JSON ({e})")
            step = isinstance(row, dict) and row.get("kind") == "step"
            if not isinstance(row, dict) or "epoch" not in row or (not step and "loss" not in row):
                sys.exit(f"plot_metrics: {path}:{number}: not an s2s metrics line (no epoch/loss)")
            rows.append(row)
    if not rows:
        sys.exit(f"plot_metrics: {path}: no metrics lines")
    if timed(rows):
        return rows
    # A resumed run appends: keep the last line of each epoch, in epoch order.
    by_epoch = {row["epoch"]: row for row in rows}
    return [by_epoch[e] for e in sorted(by_epoch)]


def timed(rows):
    """Whether to draw against elapsed seconds: step records or stages, all with 'elapsed'."""
    return all("elapsed" in r for r in rows) and any(
        r.get("kind") == "step" or "stage" in r for r in rows)


def series(rows, key):
    x_key = "elapsed" if timed(rows) else "epoch"
    points = [(row[x_key], row[key]) for row in rows if row.get(key) is not None]
    return [p[0] for p in points], [p[1] for p in points]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("metrics", help="JSON lines written by s2s train --metrics")
    parser.add_argument("-o", "--output", default="curves.png", help="image to write (default: curves.png)")
    parser.add_argument("--title", default=None, help="figure title (default: the metrics file name)")
    args = parser.parse_args()

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("plot_metrics: matplotlib is not installed; install it with:\n"
                 "  python3 -m pip install matplotlib")

    rows = read_metrics(args.metrics)
    by_time = timed(rows)
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(12, 4.5))
    for key, label in (("loss", "training loss"), ("val_loss", "validation loss")):
        x, y = series(rows, key)
        if x:
            loss_ax.plot(x, y, marker="o", markersize=3, label=label)
    loss_ax.set_title("Loss over time" if by_time else "Loss over epochs")
    loss_ax.set_xlabel("seconds since the run started" if by_time else "epoch")
    loss_ax.set_ylabel("cross-entropy")
    loss_ax.legend()
    loss_ax.grid(alpha=0.3)

    for key, label in (("accuracy", "training token accuracy"),
                       ("val_accuracy", "validation token accuracy"),
                       ("exact_match", "training exact match"),
                       ("val_exact_match", "validation exact match")):
        x, y = series(rows, key)
        if x:
            acc_ax.plot(x, y, marker="o", markersize=3, label=label)
    acc_ax.set_title("Accuracy over time" if by_time else "Accuracy over epochs")
    acc_ax.set_xlabel("seconds since the run started" if by_time else "epoch")
    if by_time:
        # Curriculum stage boundaries: where the first record of each later stage lies.
        seen = set()
        for r in rows:
            if "stage" in r and r["stage"] not in seen:
                seen.add(r["stage"])
                if len(seen) > 1:
                    for ax in (loss_ax, acc_ax):
                        ax.axvline(r["elapsed"], color="grey", linestyle=":", linewidth=1)
                    acc_ax.text(r["elapsed"], 0.03, f" stage {r['stage']}: {r.get('stage_length')}",
                                fontsize=8, color="grey")
    acc_ax.set_ylabel("accuracy")
    acc_ax.set_ylim(0, 1.02)
    acc_ax.legend()
    acc_ax.grid(alpha=0.3)

    fig.suptitle(args.title or args.metrics)
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
