#!/usr/bin/env python3
"""The data-parallel throughput model of docs/SCALING.md: predicts pq-1000 training throughput
(examples/s) on 1-64 CPU nodes and 1-8 GPUs per node from

  measured here  the pq-1000 step time at local batch sizes 128..1 (bench_pq_step --benchmark_format=json)
                 and the allreduce time against buffer size on 2 ranks (bench_allreduce, same format)
  assumed        the figures in ASSUMED below (hardware not present here), each with its source

and prints the tables as Markdown.

usage: scaling_model.py STEP.json ALLREDUCE.json [--time cpu|real]
  --time cpu (default): a step's CPU time, what a core of its own would take (this machine's
  2 cores are shared while measuring); real: wall-clock time.
"""
import argparse
import json
import math
import sys

PARAMETERS = 202502                  # the pq-1000 model (LSTM 128, one-hot, repeat): s2s prints it
GRADIENT_BYTES = 4 * PARAMETERS      # one float32 gradient buffer, reduced once per step
TRAIN_EXAMPLES = 450450              # 0.9 x the 500,500 distinct pq-1000 questions
GLOBAL_BATCH = 128                   # seed 001's batch: --batch-size, whatever the ranks

# Hardware this machine does not have. Each entry: value, where it comes from.
ASSUMED = {
    "cores_per_node": (32, "a typical dual-socket CPU node; one rank per core, one BLAS thread"),
    "ib_latency_s": (2e-6, "MPI point-to-point latency over InfiniBand HDR, ~1-2 us (vendor and "
                           "OSU benchmark figures)"),
    "ib_bandwidth_Bps": (22e9, "InfiniBand HDR 200 Gb/s = 25 GB/s per direction, ~90% usable"),
    "gpu_launch_s": (6e-6, "one small cuBLAS GEMM or pointwise kernel back to back on an H100, "
                           "launch bound: a few us each (CUDA launch overhead)"),
    "gpu_fp32_flops": (67e12 * 0.1, "H100 SXM FP32 peak 67 TFLOP/s at ~10% efficiency for "
                                    "[b x 128] x [128 x 512] GEMMs"),
    "nvlink_latency_s": (3e-6, "NCCL intra-node step latency over NVLink 4 (order of us)"),
    "nvlink_bandwidth_Bps": (400e9, "NVLink 4: 450 GB/s per direction per H100; NCCL all-reduce "
                                    "bus bandwidth ~400+ GB/s on 8 GPUs"),
    "gpu_ib_bandwidth_Bps": (45e9, "one 400 Gb/s NDR InfiniBand NIC per GPU (DGX H100), ~90%"),
}
# Kernels per training step on the CUDA backend (host/cuda/cuda_rnn.cpp): a recurrent GEMM and a
# pointwise kernel per time step forward, the same backward, over the encoder's 2,001 and the
# decoder's 2,002 steps; everything else is batched over all steps.
GPU_SERIAL_KERNELS = 4 * (2001 + 2002)
# FLOPs per example and step: forward 2 x 4H x H per time step in each of 4,003 steps (the
# one-hot input is a gather; the repeated decoder input is projected once), backward twice that.
FLOPS_PER_EXAMPLE = 3 * 2 * 4 * 128 * 128 * (2001 + 2002)


def assumed(name):
    return ASSUMED[name][0]


def load_runs(path):
    with open(path) as f:
        data = json.load(f)
    return [b for b in data["benchmarks"] if b.get("run_type", "iteration") == "iteration"]


def seconds(run, which):
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[run.get("time_unit", "ns")]
    return run["cpu_time" if which == "cpu" else "real_time"] * scale


def fit_line(xs, ys):
    """Least squares y = a + b x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - b * mx, b


def median(values):
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])


def allreduce_time(ranks, nbytes, latency, bandwidth):
    """Recursive halving/doubling (Rabenseifner), as MPI and NCCL trees do for mid-size buffers:
    2 log2(N) latency steps and 2 (N-1)/N of the buffer through each rank's link."""
    if ranks <= 1:
        return 0.0
    return 2 * math.ceil(math.log2(ranks)) * latency + 2 * (ranks - 1) / ranks * nbytes / bandwidth


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step_json")
    parser.add_argument("allreduce_json")
    parser.add_argument("--time", choices=["cpu", "real"], default="cpu")
    parser.add_argument("--allreduce-stat", choices=["min", "median"], default="min",
                        help="over repeated allreduce runs: min (the machine's capability when "
                             "nobody else uses its cores; default) or median")
    args = parser.parse_args()

    # ---- measured: step time t(b) = c0 + c1 b on one core -------------------------------------
    by_batch = {}
    for run in load_runs(args.step_json):
        b = int(run["name"].split("/")[1])
        by_batch.setdefault(b, []).append(seconds(run, args.time))
    if len(by_batch) < 2:
        sys.exit("scaling_model: the step benchmark has fewer than 2 batch sizes")
    batches = sorted(by_batch)
    step = {b: median(by_batch[b]) for b in batches}
    c0, c1 = fit_line(batches, [step[b] for b in batches])
    c0 = max(c0, 0.0)

    def cpu_step(b):
        return step[b] if b in step else c0 + c1 * b

    # ---- measured: allreduce on ranks of one node ---------------------------------------------
    sizes = {}
    ranks_measured = 2
    for run in load_runs(args.allreduce_json):
        nbytes = 4 * int(run["name"].split("/")[1])
        ranks_measured = int(run.get("ranks", 2))
        sizes.setdefault(nbytes, []).append(seconds(run, "real"))
    stat = min if args.allreduce_stat == "min" else median
    points = sorted((n, stat(t)) for n, t in sizes.items())
    # t = 2 log2(N) alpha + 2 (N-1)/N S / beta: alpha from the smallest buffer (all latency),
    # beta from the slope between the two largest (all bandwidth).
    steps = 2 * math.ceil(math.log2(ranks_measured))
    share = 2 * (ranks_measured - 1) / ranks_measured
    shm_latency = points[0][1] / steps
    (s1, t1), (s2, t2) = points[-2], points[-1]
    shm_bandwidth = share * (s2 - s1) / max(t2 - t1, 1e-12)
    gradient_here = dict(points).get(GRADIENT_BYTES)

    out = []
    p = out.append
    p("### Inputs\n")
    p(f"Measured ({args.time} time): pq-1000 step t(b) at b = {batches}: " +
      ", ".join(f"{step[b_]:.3f} s" for b_ in batches) +
      f"; fit t(b) = {c0 * 1e3:.1f} ms + {c1 * 1e3:.2f} ms x b "
      f"({FLOPS_PER_EXAMPLE / c1 / 1e9:.1f} GFLOP/s per core at {FLOPS_PER_EXAMPLE / 1e9:.2f} "
      "GFLOP per example).")
    p(f"Measured ({args.allreduce_stat} of the repetitions): allreduce on {ranks_measured} "
      f"ranks of this machine: "
      f"latency {shm_latency * 1e6:.1f} us per step, bus bandwidth {shm_bandwidth / 1e9:.2f} GB/s" +
      (f"; the pq-1000 gradient ({GRADIENT_BYTES / 1e6:.2f} MB) took "
       f"{gradient_here * 1e3:.3f} ms." if gradient_here else "."))
    p("Assumed (not measurable here):\n")
    for name, (value, source) in ASSUMED.items():
        p(f"- `{name}` = {value:g}: {source}")
    p("")

    R = assumed("cores_per_node")

    def cpu_allreduce(nodes, ranks_per_node):
        # Two levels: ranks of a node over shared memory (as measured), node leaders over IB.
        return (allreduce_time(ranks_per_node, GRADIENT_BYTES, shm_latency, shm_bandwidth) +
                allreduce_time(nodes, GRADIENT_BYTES, assumed("ib_latency_s"),
                               assumed("ib_bandwidth_Bps")))

    p(f"### CPU nodes ({R} ranks per node), global batch {GLOBAL_BATCH} (results equal one "
      "process)\n")
    p("| nodes | ranks | local batch | compute s/step | allreduce ms/step | examples/s | "
      "speed-up | epoch |")
    p("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    base = GLOBAL_BATCH / cpu_step(GLOBAL_BATCH)
    for nodes in (1, 2, 4, 8, 16, 32, 64):
        ranks = min(nodes * R, GLOBAL_BATCH)  # more ranks than the batch are refused
        per_node = min(R, ranks)
        used_nodes = math.ceil(ranks / per_node)
        local = math.ceil(GLOBAL_BATCH / ranks)
        t_c = cpu_step(local)
        t_a = cpu_allreduce(used_nodes, per_node)
        rate = GLOBAL_BATCH / (t_c + t_a)
        p(f"| {nodes} | {ranks} | {local} | {t_c:.3f} | {t_a * 1e3:.3f} | {rate:.0f} | "
          f"{rate / base:.1f} | {TRAIN_EXAMPLES / rate / 3600:.2f} h |")
    p(f"\nOne process: {base:.1f} examples/s, {TRAIN_EXAMPLES / base / 3600:.1f} h per epoch.\n")
    # Doubling the ranks pays while the compute it saves exceeds the communication it adds.
    stop = None
    ranks = 1
    while 2 * ranks <= GLOBAL_BATCH:
        saved = cpu_step(math.ceil(GLOBAL_BATCH / ranks)) - cpu_step(
            math.ceil(GLOBAL_BATCH / (2 * ranks)))
        def comm(n):
            per_node = min(R, n)
            return cpu_allreduce(math.ceil(n / per_node), per_node)
        if saved < comm(2 * ranks) - comm(ranks):
            stop = ranks
            break
        ranks *= 2
    p("Doubling the ranks pays while the compute it saves exceeds the allreduce time it adds: " +
      (f"it stops paying beyond {stop} ranks." if stop else
       f"it pays all the way to {GLOBAL_BATCH} ranks, where the batch runs out (more ranks than "
       "--batch-size are refused); communication is not the limit.") + "\n")

    p(f"### CPU nodes ({R} ranks per node), local batch fixed (global batch = ranks x local)\n")
    p("| nodes | ranks | local batch | global batch | examples/s | allreduce share | epoch |")
    p("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for local in (4, 32):
        for nodes in (1, 4, 16, 64):
            ranks = nodes * R
            t_c = cpu_step(local)
            t_a = cpu_allreduce(nodes, R)
            rate = ranks * local / (t_c + t_a)
            p(f"| {nodes} | {ranks} | {local} | {ranks * local} | {rate:.0f} | "
              f"{100 * t_a / (t_c + t_a):.2f}% | {TRAIN_EXAMPLES / rate / 60:.1f} min |")
    p("")

    def gpu_step(b):
        return GPU_SERIAL_KERNELS * assumed("gpu_launch_s") + b * FLOPS_PER_EXAMPLE / assumed(
            "gpu_fp32_flops")

    def gpu_allreduce(nodes, gpus):
        return (allreduce_time(gpus, GRADIENT_BYTES, assumed("nvlink_latency_s"),
                               assumed("nvlink_bandwidth_Bps")) +
                allreduce_time(nodes, GRADIENT_BYTES, assumed("ib_latency_s"),
                               assumed("gpu_ib_bandwidth_Bps") * gpus))

    p("### GPUs (modelled entirely: no GPU here)\n")
    p(f"Step time t(b) = {GPU_SERIAL_KERNELS} serial kernels x "
      f"{assumed('gpu_launch_s') * 1e6:.0f} us + b x {FLOPS_PER_EXAMPLE / 1e9:.2f} GFLOP / "
      f"{assumed('gpu_fp32_flops') / 1e12:.1f} TFLOP/s = "
      f"{gpu_step(0) * 1e3:.0f} ms + {gpu_step(1) * 1e3 - gpu_step(0) * 1e3:.2f} ms x b.\n")
    one_gpu = GLOBAL_BATCH / gpu_step(GLOBAL_BATCH)
    for fixed in (True, False):
        p(f"Global batch {GLOBAL_BATCH} (split over the GPUs):\n" if fixed else
          f"\nLocal batch {GLOBAL_BATCH} per GPU (global batch = {GLOBAL_BATCH} x GPUs):\n")
        p("| nodes | GPUs/node | GPUs | global batch | local batch | step ms | allreduce ms | "
          "examples/s | speed-up over 1 GPU |")
        p("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for nodes, gpus in ((1, 1), (1, 2), (1, 4), (1, 8), (4, 8), (16, 8), (64, 8)):
            n = nodes * gpus
            if fixed and n > GLOBAL_BATCH:
                continue
            local = math.ceil(GLOBAL_BATCH / n) if fixed else GLOBAL_BATCH
            global_batch = GLOBAL_BATCH if fixed else GLOBAL_BATCH * n
            t_c = gpu_step(local)
            t_a = gpu_allreduce(nodes, gpus)
            rate = global_batch / (t_c + t_a)
            p(f"| {nodes} | {gpus} | {n} | {global_batch} | {local} | {t_c * 1e3:.1f} | "
              f"{t_a * 1e3:.3f} | {rate:.0f} | {rate / one_gpu:.1f} |")
    p("")
    fast = gpu_step(GLOBAL_BATCH) / 100
    t_a = gpu_allreduce(64, 8)
    p(f"A step 100x faster than modelled ({fast * 1e3:.2f} ms, e.g. the serial kernel chain "
      f"replaced by a persistent kernel) would spend {100 * t_a / (fast + t_a):.0f}% of it in "
      f"the allreduce on 64 x 8 GPUs ({t_a * 1e3:.3f} ms).")
    p("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
