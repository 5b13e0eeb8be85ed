#!/usr/bin/env bash
# Runs one row of docs/RESULTS.md by name, on the CPU, and writes its metrics (run.jsonl), the
# console log (run.log), the curves (curves.png) and the trained model (model.safetensors, the
# last epoch; model.best.safetensors, the epoch of lowest validation loss) to a folder.
#
#   scripts/reproduce.sh --list                 the experiment names
#   scripts/reproduce.sh NAME [OUT_DIR]         run one (OUT_DIR default: build-exp/results/NAME)
#
# Environment: BUILD_DIR (default build-exp) is built with `ninja s2s_cli` when it has no s2s
# binary yet; S2S_THREADS sets OPENBLAS_NUM_THREADS (default: all cores).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-exp}"
S2S="$BUILD_DIR/s2s"

# name | what it is | s2s train arguments (metrics/out flags are added by this script)
EXPERIMENTS=(
  "digits-words|seed 000: digits -> words, LSTM 32, teacher forcing, batch 2, 300 epochs|--task digits-words --seed 1 --no-bucket"
  "addition-2d-b128|seed 001 model, 2-digit addition, 5k reversed, batch 128, 250 epochs|--task addition --digits 2 --reverse --size 5000 --seed 1 --epochs 250 --early-stopping 0"
  "addition-2d-b32|seed 001 model, 2-digit addition, 5k reversed, batch 32, 150 epochs|--task addition --digits 2 --reverse --size 5000 --seed 1 --batch-size 32 --epochs 150 --early-stopping 0"
  "addition-2d-b32-seed2|as addition-2d-b32 with --seed 2 (other data, split, init and shuffles), 80 epochs|--task addition --digits 2 --reverse --size 5000 --seed 2 --batch-size 32 --epochs 80 --early-stopping 0"
  "addition-2d-b32-seed3|as addition-2d-b32 with --seed 3, 80 epochs|--task addition --digits 2 --reverse --size 5000 --seed 3 --batch-size 32 --epochs 80 --early-stopping 0"
  "addition-2d-lr|2-digit addition, 5k reversed, batch 32, Adam lr 0.005 with clipping at norm 1, 80 epochs|--task addition --digits 2 --reverse --size 5000 --seed 1 --batch-size 32 --lr 0.005 --clip 1 --epochs 80 --early-stopping 0"
  "addition-3d|seed 001 as written: 3-digit addition, 50k reversed, batch 128, early stopping 3/0.001, at most 50 epochs|--task addition --digits 3 --reverse --size 50000 --seed 1 --epochs 50"
  "addition-3d-b32|3-digit addition, 50k reversed, batch 32, early stopping 3/0.001, at most 30 epochs|--task addition --digits 3 --reverse --size 50000 --seed 1 --batch-size 32 --epochs 30"
  "addition-3d-lr|3-digit addition, 50k reversed, batch 128, Adam lr 0.005 with clipping at norm 1, early stopping 3/0.001, at most 50 epochs|--task addition --digits 3 --reverse --size 50000 --seed 1 --lr 0.005 --clip 1 --epochs 50"
  "addition-4d|Keras' table row: 4-digit addition, 400k reversed, batch 128, early stopping 3/0.001, at most 20 epochs|--task addition --digits 4 --reverse --size 400000 --seed 1 --epochs 20"
  "addition-4d-lr|4-digit addition, 400k reversed, batch 128, Adam lr 0.005 with clipping at norm 1, early stopping 3/0.001, at most 20 epochs|--task addition --digits 4 --reverse --size 400000 --seed 1 --lr 0.005 --clip 1 --epochs 20"
  "addition-5d|Keras' table row: 5-digit addition, 550k reversed, batch 128, early stopping 3/0.001, at most 30 epochs|--task addition --digits 5 --reverse --size 550000 --seed 1 --epochs 30"
  "progression|seed 002: x -> 3x mod 50 from x/50, the tool's defaults (LSTM 200, batch 1, 150 epochs, decay 1e-5)|--task progression --seed 1"
  "progression-seed-lr|seed 002 with the seed's learning rate and epochs: Adam lr 1e-4, 500 epochs|--task progression --seed 1 --lr 0.0001 --epochs 500"
  "subtraction-5d|seed 001 part 2: 5-digit subtraction, 50k, not reversed, batch 128, early stopping 3/0.001, at most 40 epochs|--task subtraction --digits 5 --size 50000 --seed 1 --epochs 40"
  "subtraction-5d-long|seed 001 part 2 as subtraction-5d, early stopping off, 150 epochs|--task subtraction --digits 5 --size 50000 --seed 1 --epochs 150 --early-stopping 0"
  "subtraction-5d-best|5-digit subtraction, 50k, query reversed, Adam lr 0.005 with clipping at norm 1, early stopping off, 60 epochs|--task subtraction --digits 5 --size 50000 --seed 1 --reverse --lr 0.005 --clip 1 --epochs 60 --early-stopping 0"
  "pq-10|seed 001 part 3: pq-system with up to 10 dashes per operand (55 pairs), batch 128, 300 epochs|--task pq --padded --max-dashes 10 --seed 1 --valid-split 0 --epochs 300 --early-stopping 0"
  "pq-10-b8|pq-system, up to 10 dashes, batch 8, 150 epochs|--task pq --padded --max-dashes 10 --seed 1 --valid-split 0 --batch-size 8 --epochs 150 --early-stopping 0"
  "pq-100|pq-system with up to 100 dashes per operand (5,050 pairs, 201-character sequences), at most 10 epochs|--task pq --padded --max-dashes 100 --seed 1 --epochs 10"
  "pq-100-tf|pq-system, up to 100 dashes, teacher forcing (the encoder's h and c start the decoder), 30 epochs|--task pq --padded --max-dashes 100 --seed 1 --mode teacher_forcing --epochs 30 --early-stopping 0"
  "pq-100-tf-b32|pq-system, up to 100 dashes, teacher forcing, batch 32, Adam lr 0.003 with clipping at norm 1, 10 epochs|--task pq --padded --max-dashes 100 --seed 1 --mode teacher_forcing --batch-size 32 --lr 0.003 --clip 1 --epochs 10 --early-stopping 0"
  "pq-100-b32|pq-system, up to 100 dashes, the seed's repeat model, batch 32, Adam lr 0.003 with clipping at norm 1, 30 epochs|--task pq --padded --max-dashes 100 --seed 1 --batch-size 32 --lr 0.003 --clip 1 --epochs 30 --early-stopping 0"
  "pq-1000-small|pq-system, up to 1,000 dashes (2,001-character sequences), 2,000 of the seed's 50,000 questions, the seed's repeat model, 2 epochs (a timing)|--task pq --padded --max-dashes 1000 --size 2000 --seed 1 --epochs 2 --early-stopping 0"
  "pq-100-learned|pq-system, up to 100 dashes, natural lengths (the tool's default form and teacher-forcing model, batch 32, length buckets), until 99% validation exact match (checked every 50 steps on all 505 held-out questions)|--task pq --max-dashes 100 --seed 1 --epochs 10 --eval-every 50 --target-exact-match 0.99"
  "pq-1000-learned|pq-system, up to 1,000 dashes, natural lengths, curriculum 100 -> 300 -> 1000 dashes (each stage until 99% exact match on 200 held-out questions, checked every 50 steps, or 3,000 steps), then all 5,000 held-out questions and 1,001-1,200 dashes|--task pq --curriculum 100,300,1000 --seed 1 --epochs 10 --eval-every 50 --eval-examples 200 --stage-steps 3000"
  "pq-20-b8|pq-system, up to 20 dashes (210 pairs), the seed's repeat model, batch 8, 150 epochs|--task pq --padded --max-dashes 20 --seed 1 --batch-size 8 --epochs 150 --early-stopping 0"
  "pq-40-b16|pq-system, up to 40 dashes (820 pairs), the seed's repeat model, batch 16, 100 epochs|--task pq --padded --max-dashes 40 --seed 1 --batch-size 16 --epochs 100 --early-stopping 0"
)

list() {
  for row in "${EXPERIMENTS[@]}"; do
    IFS='|' read -r name what _ <<<"$row"
    printf '%-22s %s\n' "$name" "$what"
  done
  printf '%-22s %s\n' "seed003-mse" "seed 003: real-valued targets, MSE loss (examples/seed003_mse)"
  printf '%-22s %s\n' "compare-peers" "seed 001's model, Keras and PyTorch vs s2s on the same data, CPU (scripts/compare_peers.sh)"
}

if [[ $# -lt 1 || "$1" == "-h" || "$1" == "--help" ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
if [[ "$1" == "--list" ]]; then
  list
  exit 0
fi

NAME="$1"
OUT_DIR="${2:-$BUILD_DIR/results/$NAME}"
mkdir -p "$OUT_DIR"
[[ -n "${S2S_THREADS:-}" ]] && export OPENBLAS_NUM_THREADS="$S2S_THREADS"
# The learned pq rows run BLAS on one thread unless S2S_THREADS says otherwise: measured as fast
# as two at H128 (docs/RESULTS.md section 9), and FTZ/DAZ then covers every computing thread.
[[ "$NAME" == pq-*-learned && -z "${S2S_THREADS:-}" ]] && export OPENBLAS_NUM_THREADS=1

build() {
  local target="$1" binary="$1"
  [[ "$target" == s2s_cli ]] && binary=s2s
  if [[ ! -x "$BUILD_DIR/$binary" ]]; then
    if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
      cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DS2S_ENABLE_CUDA=OFF \
        -DS2S_BUILD_BENCHMARKS=OFF
    fi
    ninja -C "$BUILD_DIR" "$target"
  fi
}

plot() {
  if python3 -c 'import matplotlib' 2>/dev/null; then
    python3 "$ROOT/scripts/plot_metrics.py" "$OUT_DIR/run.jsonl" -o "$OUT_DIR/curves.png" \
      --title "s2s $NAME (CPU)" ||
      echo "reproduce: plotting failed (metrics are in $OUT_DIR/run.jsonl)" >&2
  else
    echo "reproduce: matplotlib missing, no plot (python3 -m pip install matplotlib)" >&2
  fi
}

case "$NAME" in
  seed003-mse)
    build seed003_mse
    "$BUILD_DIR/seed003_mse" --metrics "$OUT_DIR/run.jsonl" | tee "$OUT_DIR/run.log"
    # MSE on a log scale (plot_metrics.py draws cross-entropy and accuracies).
    python3 - "$OUT_DIR/run.jsonl" "$OUT_DIR/curves.png" <<'PLOT'
import json, sys
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit("reproduce: matplotlib missing, no plot (python3 -m pip install matplotlib)")
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
ax.semilogy([r["epoch"] for r in rows], [r["loss"] for r in rows], ".-", label="training MSE")
ax.semilogy([r["epoch"] for r in rows], [r["val_loss"] for r in rows], ".-", label="validation MSE")
ax.set_xlabel("epoch")
ax.set_ylabel("mean squared error")
ax.set_title("seed 003: RNN seq2seq, real-valued targets (CPU)")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(sys.argv[2])
print("wrote", sys.argv[2])
PLOT
    exit 0
    ;;
  compare-peers)
    build s2s_cli
    BUILD_DIR="$BUILD_DIR" "$ROOT/scripts/compare_peers.sh" "$OUT_DIR" | tee "$OUT_DIR/run.log"
    exit 0
    ;;
esac

ARGS=""
for row in "${EXPERIMENTS[@]}"; do
  IFS='|' read -r name _ args <<<"$row"
  [[ "$name" == "$NAME" ]] && ARGS="$args"
done
if [[ -z "$ARGS" ]]; then
  echo "reproduce: unknown experiment '$NAME'; known:" >&2
  list >&2
  exit 2
fi

build s2s_cli
rm -f "$OUT_DIR/run.jsonl"
rm -f "$OUT_DIR/model.safetensors" "$OUT_DIR/model.best.safetensors"
echo "+ s2s train $ARGS --device cpu --samples 0 --metrics $OUT_DIR/run.jsonl --out $OUT_DIR/model.safetensors" | tee "$OUT_DIR/run.log"
start=$(date +%s.%N)
# shellcheck disable=SC2086  # ARGS is a list of flags
"$S2S" train $ARGS --device cpu --samples 0 --metrics "$OUT_DIR/run.jsonl" \
  --out "$OUT_DIR/model.safetensors" 2>&1 | tee -a "$OUT_DIR/run.log"
end=$(date +%s.%N)
python3 - "$OUT_DIR/run.jsonl" "$start" "$end" <<'EOF' | tee -a "$OUT_DIR/run.log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows = [r for r in lines if r.get("kind", "epoch") == "epoch"]
steps = [r for r in lines if "val_exact_match" in r]
if "stage" in lines[-1]:  # a curriculum: the time to 99% at the last stage
    steps = [r for r in steps if r.get("stage") == lines[-1]["stage"]]
hit = next((r for r in steps if r["val_exact_match"] >= 0.99), None)
if hit is not None and "elapsed" in hit:
    print(f"summary: validation exact match first >= 0.99 after {hit['elapsed']:.1f} s of the run "
          f"(step {hit.get('step')}{', stage ' + str(hit['stage']) if 'stage' in hit else ''}, "
          f"{hit['val_exact_match']:.4f} on {hit.get('val_examples', 'all')} examples)")
wall = float(sys.argv[3]) - float(sys.argv[2])
key = "val_exact_match" if any("val_exact_match" in r for r in rows) else "exact_match"
acc = "val_accuracy" if key == "val_exact_match" else "accuracy"
first = next((r["epoch"] for r in rows if r.get(key, 0) >= 0.99), None)
first_token = next((r["epoch"] for r in rows if r.get(acc, 0) >= 0.99), None)
best = max(rows, key=lambda r: r.get(key, 0))
last = rows[-1]
print(f"summary: epochs {last['epoch']}, final {key} {last.get(key)}, final {acc} "
      f"{last.get(acc)}, best {key} {best.get(key)} (epoch {best['epoch']}), "
      f"first epoch with {key} >= 0.99: {first}, first epoch with {acc} >= 0.99: {first_token}, "
      f"training seconds {sum(r.get('seconds', 0) for r in rows):.1f}, wall seconds {wall:.1f}")
EOF
plot
if [[ "$NAME" == pq-*-learned ]]; then
  # The model's own held-out questions, all of them (the run checked a sample); then, for the
  # 1,000-dash model, questions beyond what it saw: both operands 1,001..1,200 dashes.
  echo "+ s2s eval --model $OUT_DIR/model.safetensors --held-out" | tee -a "$OUT_DIR/run.log"
  eval_start=$(date +%s.%N)
  "$S2S" eval --model "$OUT_DIR/model.safetensors" --held-out --device cpu |
    sed -n '1,5p' | tee -a "$OUT_DIR/run.log"
  echo "eval seconds: $(python3 -c "print(round($(date +%s.%N) - $eval_start, 1))")" |
    tee -a "$OUT_DIR/run.log"
  if [[ "$NAME" == pq-1000-learned ]]; then
    python3 - "$OUT_DIR/beyond.tsv" <<'BEYOND'
import random, sys
rng = random.Random(1200)
with open(sys.argv[1], "w") as f:
    for _ in range(200):
        a, b = rng.randint(1001, 1200), rng.randint(1001, 1200)
        f.write("-" * a + "p" + "-" * b + "\t" + "q" + "-" * (a + b) + "\n")
BEYOND
    echo "+ s2s eval --model $OUT_DIR/model.safetensors --data $OUT_DIR/beyond.tsv (operands 1,001..1,200)" |
      tee -a "$OUT_DIR/run.log"
    "$S2S" eval --model "$OUT_DIR/model.safetensors" --data "$OUT_DIR/beyond.tsv" --device cpu \
      >"$OUT_DIR/beyond.log"
    sed -n '1,5p' "$OUT_DIR/beyond.log" | tee -a "$OUT_DIR/run.log"
  fi
fi
