#!/usr/bin/env python3
"""Compares the parameters of two s2s checkpoints: the largest absolute difference per tensor
and over all, and whether it is within a tolerance (exit status 1 when it is not, or when the
checkpoints do not hold the same tensors). Used by the data-parallel tests (tests/mpi/) to check
that N ranks train the model one process trains.

usage: compare_checkpoints.py A.safetensors B.safetensors [--atol 1e-3] [--with-optimizer]
"""
import argparse
import sys

from safetensors.numpy import load_file


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--atol", type=float, default=1e-3,
                        help="largest absolute difference allowed (default 1e-3)")
    parser.add_argument("--with-optimizer", action="store_true",
                        help="also compare the optimizer state tensors")
    args = parser.parse_args()
    try:
        a, b = load_file(args.a), load_file(args.b)
    except Exception as e:  # the safetensors package's own errors name the problem
        sys.exit(f"compare_checkpoints: cannot read the checkpoints: {e}")

    def wanted(name):
        return args.with_optimizer or not name.startswith("optimizer.")

    names_a = sorted(n for n in a if wanted(n))
    names_b = sorted(n for n in b if wanted(n))
    if names_a != names_b:
        sys.exit(f"compare_checkpoints: the tensors differ: {args.a} has {names_a}, "
                 f"{args.b} has {names_b}")
    worst, worst_name = 0.0, ""
    for name in names_a:
        if a[name].shape != b[name].shape:
            sys.exit(f"compare_checkpoints: {name} is {a[name].shape} in {args.a} and "
                     f"{b[name].shape} in {args.b}")
        diff = float(abs(a[name].astype("float64") - b[name].astype("float64")).max(initial=0.0))
        if diff > worst or not worst_name:
            worst, worst_name = diff, name
    verdict = "within" if worst <= args.atol else "OVER"
    print(f"max |a - b| = {worst:.3e} ({worst_name}), {len(names_a)} tensors; "
          f"{verdict} atol {args.atol:g}")
    return 0 if worst <= args.atol else 1


if __name__ == "__main__":
    sys.exit(main())
