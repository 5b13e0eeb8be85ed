#!/usr/bin/env python3
"""s2s's CUDA LSTM layer against PyTorch's (cuDNN) at the shapes of bench/bench_gpu_layers.cpp.

Times torch.nn.LSTM(H, H) forward (autograd on, as in training) and forward + backward on
time-major [T, B, H] input, full-length sequences, with TF32 disallowed (exact float32, what s2s
computes) and allowed (cuDNN's fast path), using CUDA events, warm-up runs and the median of
repeated runs. Then runs the s2s benchmark binary (its path is the first argument) with
--benchmark_format=json for the same shapes and prints one table of s2s time / PyTorch time.

Usage: python3 bench/peers/torch_lstm.py build/bench_gpu_layers [--repeats 20] [--warmup 5]

Without PyTorch (or without a GPU for it) the s2s numbers are still printed and the script
exits 0; a failing s2s binary makes it exit 1.
"""
import argparse
import json
import statistics
import subprocess
import sys

SHAPES = [(128, 128, 8), (128, 128, 2001), (512, 64, 50), (1024, 256, 100)]


def s2s_times(binary):
    """Median milliseconds per (op, H, B, T) for s2s's lstm layer, from the benchmark JSON."""
    command = [binary, "--benchmark_format=json",
               "--benchmark_filter=^gpu_rnn_forward(_backward)?/lstm/"]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise RuntimeError("%s exited with status %d" % (" ".join(command), result.returncode))
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    times = {}
    for run in json.loads(result.stdout).get("benchmarks", []):
        if run.get("run_type", "iteration") != "iteration" or run.get("error_occurred"):
            continue
        # gpu_rnn_forward/lstm/H:128/B:128/T:8/manual_time
        parts = run["name"].split("/")
        op = "forward" if parts[0] == "gpu_rnn_forward" else "forward+backward"
        fields = dict(part.split(":") for part in parts if ":" in part)
        key = (op, int(fields["H"]), int(fields["B"]), int(fields["T"]))
        times[key] = run["real_time"] * scale[run.get("time_unit", "ns")]
    return times


def torch_times(repeats, warmup):
    """Median milliseconds per (op, tf32, H, B, T) for torch.nn.LSTM, or None without torch."""
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: only s2s's times are shown")
        return None
    if not torch.cuda.is_available():
        print("PyTorch sees no CUDA device: only s2s's times are shown")
        return None
    torch.backends.cudnn.enabled = True
    torch.backends.cudnn.benchmark = True
    times = {}
    for tf32 in (False, True):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        for hidden, batch, steps in SHAPES:
            torch.manual_seed(0)
            lstm = torch.nn.LSTM(hidden, hidden, num_layers=1).cuda()  # time-major, like s2s
            x = torch.randn(steps, batch, hidden, device="cuda", requires_grad=True)
            dy = torch.randn(steps, batch, hidden, device="cuda")

            def forward():
                lstm(x)

            def forward_backward():
                lstm.zero_grad(set_to_none=True)
                x.grad = None
                y, _ = lstm(x)
                y.backward(dy)

            for op, work in (("forward", forward), ("forward+backward", forward_backward)):
                for _ in range(warmup):
                    work()
                samples = []
                for _ in range(repeats):
                    start = torch.cuda.Event(enable_timing=True)
                    stop = torch.cuda.Event(enable_timing=True)
                    start.record()
                    work()
                    stop.record()
                    stop.synchronize()
                    samples.append(start.elapsed_time(stop))
                times[(op, tf32, hidden, batch, steps)] = statistics.median(samples)
            del lstm, x, dy
            torch.cuda.empty_cache()
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", help="path of the s2s benchmark binary (bench_gpu_layers)")
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per case")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs first")
    args = parser.parse_args()

    try:
        ours = s2s_times(args.binary)
    except (OSError, RuntimeError, ValueError) as error:
        print("s2s benchmark failed: %s" % error)
        return 1
    theirs = torch_times(args.repeats, args.warmup)

    header = "%-17s %-16s %10s %12s %8s %12s %8s" % (
        "op", "H,B,T", "s2s ms", "torch fp32", "ratio", "torch tf32", "ratio")
    print()
    print("s2s LSTM layer vs torch.nn.LSTM (cuDNN); ratio = s2s time / PyTorch time "
          "(below 1: s2s faster)")
    print(header)
    print("-" * len(header))
    for op in ("forward", "forward+backward"):
        for hidden, batch, steps in SHAPES:
            mine = ours.get((op, hidden, batch, steps))
            row = "%-17s %-16s %10s" % (op, "%d,%d,%d" % (hidden, batch, steps),
                                        "%.3f" % mine if mine is not None else "n/a")
            for tf32 in (False, True):
                peer = theirs.get((op, tf32, hidden, batch, steps)) if theirs else None
                if peer is None:
                    row += " %12s %8s" % ("n/a", "")
                else:
                    ratio = "%.2f" % (mine / peer) if mine is not None and peer > 0 else "n/a"
                    row += " %12.3f %8s" % (peer, ratio)
            print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
