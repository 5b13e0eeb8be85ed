#!/usr/bin/env python3
"""How a pq-system model's greedy answers are wrong: the number of dashes it writes against the
number it should write, over every question of the task.

    scripts/pq_errors.py MODEL.safetensors --max-dashes 100 [--s2s build-exp/s2s] [--seed 1]
        [--presentation natural|padded]   (padded for models trained with --padded)

Generates all questions with `s2s gen --task pq`, predicts them with `s2s predict --raw` (the
model's own decoding: repeat mode in one pass, teacher forcing greedily step by step) and prints
the share of answers whose dash count is right, the distribution of (predicted - true) dash
counts, and the most frequent predicted counts. A model that ignores its input writes the same
count for every question; one that counts but is imprecise is off by a few.
"""
import argparse
import collections
import statistics
import subprocess
import sys


def run_s2s(command, stdin_text=None):
    """stdout of an s2s command; exits with s2s' own message when it fails."""
    try:
        result = subprocess.run(command, input=stdin_text, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True)
    except OSError as e:
        sys.exit(f"pq_errors: cannot run {command[0]} ({e}); give the binary with --s2s")
    if result.returncode != 0:
        sys.exit(f"pq_errors: {' '.join(command[:2])} failed: {result.stderr.strip()}")
    return result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="checkpoint written by s2s train --task pq")
    parser.add_argument("--max-dashes", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--presentation", choices=["natural", "padded"], default="natural",
                        help="the form the model was trained on (s2s train --padded: padded)")
    parser.add_argument("--s2s", default="build-exp/s2s", help="path of the s2s binary")
    args = parser.parse_args()

    pairs_text = run_s2s([args.s2s, "gen", "--task", "pq", "--max-dashes", str(args.max_dashes),
                          "--seed", str(args.seed), "--presentation", args.presentation])
    pairs = [line.split("\t") for line in pairs_text.splitlines() if line]
    predicted = run_s2s([args.s2s, "predict", "--model", args.model, "--raw", "--device", "cpu"],
                        "\n".join(query for query, _ in pairs) + "\n").splitlines()
    if len(predicted) != len(pairs):
        sys.exit(f"pq_errors: {len(pairs)} questions but {len(predicted)} predictions")

    true_counts = [target.count("-") for _, target in pairs]
    predicted_counts = [answer.count("-") for answer in predicted]
    differences = [p - t for p, t in zip(predicted_counts, true_counts)]
    exact = sum(answer.rstrip() == target.rstrip() for answer, (_, target) in zip(predicted, pairs))
    print(f"questions: {len(pairs)} (operands of 1..{args.max_dashes} dashes)")
    print(f"answers exactly right: {exact} ({exact / len(pairs):.1%}); "
          f"dash count right: {differences.count(0)} ({differences.count(0) / len(pairs):.1%})")
    print(f"predicted - true dash count: median {statistics.median(differences)}, "
          f"min {min(differences)}, max {max(differences)}, "
          f"|difference| <= 1: {sum(abs(d) <= 1 for d in differences) / len(pairs):.1%}")
    print(f"true dash counts: {min(true_counts)}..{max(true_counts)}; distinct predicted counts: "
          f"{len(set(predicted_counts))}; most frequent: "
          + ", ".join(f"{count} ({n}x)" for count, n in
                      collections.Counter(predicted_counts).most_common(5)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
