#!/usr/bin/env bash
# s2s against PyTorch on the pq-system, one after the other in one run, on the CPU:
#   1. learning: pq with up to N dashes (default 100), natural lengths, teacher forcing, batch 32,
#      length buckets, validation exact match every 50 steps; the seconds each takes to reach 99%
#      (s2s: `s2s train`; PyTorch: bench/peers/torch_pq.py learn on the pairs `s2s gen` writes)
#      and their ratio;
#   2. speed at pq's longest shape: training steps at H128, batch 128, 2,001 characters (s2s:
#      bench_seq2seq_long when built, else `s2s train --padded` on 256 questions of 1,000
#      dashes; PyTorch: torch_pq.py speed), examples/s, max RSS and system time of each.
#
#   scripts/compare_pq_peers.sh [OUT_DIR]        (default build-exp/results/compare-pq-peers)
#
# Environment: BUILD_DIR (default build-exp; built with `ninja s2s_cli` when it has no s2s),
# DASHES (default 100), THREADS (default 1: BLAS and PyTorch threads, measured fastest here),
# SKIP_LEARN / SKIP_SPEED=1 to run one part only. PyTorch missing: its rows are skipped (it is not
# installed by scripts/setup.sh: python3 -m pip install torch).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-exp}"
OUT_DIR="${1:-$BUILD_DIR/results/compare-pq-peers}"
DASHES="${DASHES:-100}"
THREADS="${THREADS:-1}"
S2S="$BUILD_DIR/s2s"
[[ "$DASHES" =~ ^[0-9]+$ && "$DASHES" -ge 2 ]] ||
  { echo "compare_pq_peers: DASHES is '$DASHES' (allowed: a whole number >= 2)" >&2; exit 2; }
[[ "$THREADS" =~ ^[0-9]+$ && "$THREADS" -ge 1 ]] ||
  { echo "compare_pq_peers: THREADS is '$THREADS' (allowed: a whole number >= 1)" >&2; exit 2; }
mkdir -p "$OUT_DIR"
export OPENBLAS_NUM_THREADS="$THREADS"
if [[ ! -x "$S2S" ]]; then
  [[ -f "$BUILD_DIR/build.ninja" ]] ||
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DS2S_ENABLE_CUDA=OFF \
      -DS2S_BUILD_BENCHMARKS=OFF
  ninja -C "$BUILD_DIR" s2s_cli
fi
have_torch=1
python3 -c 'import torch' 2>/dev/null || have_torch=0

# max RSS (MB) and system share of wall time of a command, from /usr/bin/time -v.
resources() {
  python3 - "$1" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
system = float(re.search(r"System time \(seconds\): ([0-9.]+)", text).group(1))
user = float(re.search(r"User time \(seconds\): ([0-9.]+)", text).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([0-9:.]+)", text).group(1)
parts = [float(p) for p in wall.split(":")]
seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
faults = int(re.search(r"Minor \(reclaiming a frame\) page faults: (\d+)", text).group(1))
print(f"max RSS {rss:.0f} MB, user {user:.1f} s, system {system:.1f} s = {100 * system / seconds:.1f}% "
      f"of {seconds:.1f} s wall, {faults} minor page faults")
EOF
}

if [[ "${SKIP_LEARN:-0}" != 1 ]]; then
  echo "== learning: pq up to $DASHES dashes, natural lengths, $THREADS thread(s)"
  "$S2S" gen --task pq --max-dashes "$DASHES" --seed 1 >"$OUT_DIR/pairs.tsv"
  /usr/bin/time -v "$S2S" train --task pq --max-dashes "$DASHES" --seed 1 --epochs 10 \
    --eval-every 50 --target-exact-match 0.99 --samples 0 --device cpu \
    --metrics "$OUT_DIR/s2s.jsonl" >"$OUT_DIR/s2s.log" 2>"$OUT_DIR/s2s.time"
  echo "s2s: $(resources "$OUT_DIR/s2s.time")"
  if [[ $have_torch == 1 ]]; then
    /usr/bin/time -v python3 "$ROOT/bench/peers/torch_pq.py" learn "$OUT_DIR/pairs.tsv" \
      --threads "$THREADS" --metrics "$OUT_DIR/torch.jsonl" >"$OUT_DIR/torch.log" \
      2>"$OUT_DIR/torch.time"
    echo "PyTorch: $(resources "$OUT_DIR/torch.time")"
  else
    echo "== PyTorch skipped: python3 cannot import torch"
  fi
  python3 - "$OUT_DIR" <<'EOF'
import json, os, sys
out = sys.argv[1]
def first(path):
    if not os.path.exists(path):
        return None
    for line in open(path):
        r = json.loads(line)
        if r.get("val_exact_match", 0) >= 0.99:
            return r
s, t = first(os.path.join(out, "s2s.jsonl")), first(os.path.join(out, "torch.jsonl"))
show = lambda name, r: print(f"{name}: 99% validation exact match " + (
    f"after {r['elapsed']:.1f} s (step {r['step']}, {r['val_exact_match']:.4f})" if r else "not reached"))
show("s2s", s)
show("PyTorch", t)
if s and t:
    print(f"time to 99%: PyTorch / s2s = {t['elapsed'] / s['elapsed']:.2f}")
EOF
fi

if [[ "${SKIP_SPEED:-0}" != 1 ]]; then
  echo "== speed: training steps at H128, batch 128, 2,001 characters, $THREADS thread(s)"
  if [[ -x "$BUILD_DIR/bench_seq2seq_long" ]]; then
    /usr/bin/time -v "$BUILD_DIR/bench_seq2seq_long" --benchmark_filter='T:2001' \
      --benchmark_format=json >"$OUT_DIR/s2s_speed.json" \
      2>"$OUT_DIR/s2s_speed.time"
    python3 - "$OUT_DIR/s2s_speed.json" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
cpu = b["real_time"] / b["cpu_time"]  # rates are per wall second; per CPU second they scale
print(f"s2s (bench_seq2seq_long): {b['examples']:.1f} examples/s ({b['examples'] * cpu:.1f} per "
      f"CPU second), {b['GFLOP']:.1f} GFLOP/s ({b['GFLOP'] * cpu:.1f} per CPU second), "
      f"{b['real_time'] / 1000:.2f} s per step")
EOF
  else
    /usr/bin/time -v "$S2S" train --task pq --padded --max-dashes 1000 --size 260 \
      --valid-split 0.02 --batch-size 128 --epochs 1 --samples 0 --mode teacher_forcing \
      --device cpu --metrics "$OUT_DIR/s2s_speed.jsonl" >/dev/null 2>"$OUT_DIR/s2s_speed.time"
    python3 -c "import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(f\"s2s (s2s train, 2 steps, first one included): {r['examples_per_second']:.1f} examples/s\")" \
      "$OUT_DIR/s2s_speed.jsonl"
  fi
  echo "s2s: $(resources "$OUT_DIR/s2s_speed.time")"
  if [[ $have_torch == 1 ]]; then
    /usr/bin/time -v python3 "$ROOT/bench/peers/torch_pq.py" speed --threads "$THREADS" \
      --steps 2001 --batch 128 --iterations 2 >"$OUT_DIR/torch_speed.json" \
      2>"$OUT_DIR/torch_speed.time"
    python3 -c "import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(f\"PyTorch: {r['examples_per_second']:.1f} examples/s ({r['examples_per_cpu_second']:.1f} per CPU second), {r['seconds_per_step']:.2f} s per step\")" \
      "$OUT_DIR/torch_speed.json"
    echo "PyTorch: $(resources "$OUT_DIR/torch_speed.time")"
  fi
fi
