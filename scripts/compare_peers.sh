#!/usr/bin/env bash
# Seed 001's addition model trained by its peers — Keras (bench/peers/keras_addition.py) and
# PyTorch (bench/peers/torch_addition.py) — and by `s2s train`, one after the other in one run,
# on the same pairs, the same held-out 10% and the same batch size; prints accuracy and seconds
# per epoch side by side and the ratios of seconds per epoch (peer / s2s: above 1, s2s is faster).
#
#   scripts/compare_peers.sh [OUT_DIR]        (default OUT_DIR: build-exp/results/compare-peers)
#
# Environment: DIGITS (3), SIZE (50000), EPOCHS (5), BATCH (128), SEED (1),
#   DEVICE (cpu; cuda runs PyTorch on cuDNN and s2s on the GPU, and skips Keras, whose CPU
#   build is the one installed), PEERS ("keras torch"; a peer whose Python package is missing is
#   skipped with a message),
#   KERAS_PYTHON (/opt/tfvenv/bin/python if it exists, else python3; needs TensorFlow),
#   TORCH_PYTHON (python3; needs PyTorch),
#   BUILD_DIR (build-exp; built with `ninja s2s_cli` when it has no s2s binary).
# Every side uses the machine's cores as its library chooses (OpenBLAS for s2s, TensorFlow's and
# PyTorch's thread pools). Run nothing else meanwhile: the seconds are wall-clock per epoch.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-exp}"
OUT_DIR="${1:-$BUILD_DIR/results/compare-peers}"
DIGITS="${DIGITS:-3}"
SIZE="${SIZE:-50000}"
EPOCHS="${EPOCHS:-5}"
BATCH="${BATCH:-128}"
SEED="${SEED:-1}"
DEVICE="${DEVICE:-cpu}"
PEERS="${PEERS:-keras torch}"
if [[ -z "${KERAS_PYTHON:-}" ]]; then
  if [[ -x /opt/tfvenv/bin/python ]]; then KERAS_PYTHON=/opt/tfvenv/bin/python; else KERAS_PYTHON=python3; fi
fi
TORCH_PYTHON="${TORCH_PYTHON:-python3}"
S2S="$BUILD_DIR/s2s"
# Refuse bad settings before anything is generated or trained.
case "$DEVICE" in cpu | cuda) ;; *)
  echo "compare_peers: DEVICE must be cpu or cuda, not '$DEVICE'" >&2
  exit 2
  ;;
esac
for peer in $PEERS; do
  case "$peer" in keras | torch) ;; *)
    echo "compare_peers: unknown peer '$peer' in PEERS (allowed: keras, torch)" >&2
    exit 2
    ;;
  esac
done
mkdir -p "$OUT_DIR"
rm -f "$OUT_DIR"/keras.jsonl "$OUT_DIR"/torch.jsonl "$OUT_DIR"/s2s.jsonl

if [[ ! -x "$S2S" ]]; then
  [[ -f "$BUILD_DIR/build.ninja" ]] ||
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DS2S_BUILD_BENCHMARKS=OFF
  ninja -C "$BUILD_DIR" s2s_cli
fi

# One file of pairs, split once: the first 90% trains every model, the last 10% validates them.
"$S2S" gen --task addition --digits "$DIGITS" --reverse --size "$SIZE" --seed "$SEED" \
  >"$OUT_DIR/pairs.tsv"
n_valid=$((SIZE / 10))
head -n $((SIZE - n_valid)) "$OUT_DIR/pairs.tsv" >"$OUT_DIR/train.tsv"
tail -n "$n_valid" "$OUT_DIR/pairs.tsv" >"$OUT_DIR/valid.tsv"

for peer in $PEERS; do
  case "$peer" in
    keras)
      if [[ "$DEVICE" != cpu ]]; then
        echo "== Keras skipped: DEVICE=$DEVICE (the Keras side runs on the CPU only)"
      elif ! "$KERAS_PYTHON" -c 'import tensorflow' 2>/dev/null; then
        echo "== Keras skipped: $KERAS_PYTHON cannot import tensorflow (python3 -m pip install tensorflow-cpu)"
      else
        echo "== Keras ($KERAS_PYTHON bench/peers/keras_addition.py), $DIGITS-digit addition, $SIZE pairs, batch $BATCH"
        "$KERAS_PYTHON" "$ROOT/bench/peers/keras_addition.py" "$OUT_DIR/train.tsv" \
          --valid "$OUT_DIR/valid.tsv" --epochs "$EPOCHS" --batch-size "$BATCH" --hidden 128 \
          --seed "$SEED" --metrics "$OUT_DIR/keras.jsonl"
      fi
      ;;
    torch)
      if ! "$TORCH_PYTHON" -c 'import torch' 2>/dev/null; then
        echo "== PyTorch skipped: $TORCH_PYTHON cannot import torch"
      else
        echo "== PyTorch ($TORCH_PYTHON bench/peers/torch_addition.py --device $DEVICE), same files"
        "$TORCH_PYTHON" "$ROOT/bench/peers/torch_addition.py" "$OUT_DIR/train.tsv" \
          --valid "$OUT_DIR/valid.tsv" --epochs "$EPOCHS" --batch-size "$BATCH" --hidden 128 \
          --seed "$SEED" --device "$DEVICE" --metrics "$OUT_DIR/torch.jsonl"
      fi
      ;;
  esac
done

echo "== s2s train --device $DEVICE, same files"
"$S2S" train --data "$OUT_DIR/train.tsv" --valid "$OUT_DIR/valid.tsv" --mode repeat --cell lstm \
  --hidden 128 --batch-size "$BATCH" --epochs "$EPOCHS" --early-stopping 0 --seed "$SEED" \
  --device "$DEVICE" --samples 0 --metrics "$OUT_DIR/s2s.jsonl"

python3 - "$OUT_DIR" <<'EOF'
import json, os, sys
def load(name):
    path = os.path.join(sys.argv[1], name + ".jsonl")
    return [json.loads(l) for l in open(path) if l.strip()] if os.path.exists(path) else None
s2s = load("s2s")
peers = [(name, rows) for name, rows in (("keras", load("keras")), ("torch", load("torch"))) if rows]
header = "epoch"
for name, _ in peers + [("s2s", s2s)]:
    header += f" | {name} val_acc | {name} val_exact | {name} s"
header += "".join(f" | {name} s / s2s s" for name, _ in peers)
print()
print(header)
print(" | ".join("---" for _ in header.split(" | ")))
n = min([len(s2s)] + [len(rows) for _, rows in peers])
for i in range(n):
    line = f"{s2s[i]['epoch']}"
    for _, rows in peers + [("s2s", s2s)]:
        r = rows[i]
        line += f" | {r['val_accuracy']:.4f} | {r['val_exact_match']:.4f} | {r['seconds']:.2f}"
    line += "".join(f" | {rows[i]['seconds'] / s2s[i]['seconds']:.2f}" for _, rows in peers)
    print(line)
# The first epoch carries start-up costs (graph tracing for Keras, cuDNN's plan choice); the mean
# excludes it when there are more epochs.
rest = slice(1, n) if n > 1 else slice(0, n)
mean = lambda rows: sum(r["seconds"] for r in rows[rest]) / len(rows[rest])
summary = f"\nmean seconds per epoch (epochs {rest.start + 1}..{n}): s2s {mean(s2s):.2f}"
for name, rows in peers:
    summary += f", {name} {mean(rows):.2f} (ratio {name}/s2s {mean(rows) / mean(s2s):.2f})"
print(summary)
EOF
