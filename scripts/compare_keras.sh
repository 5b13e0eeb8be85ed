#!/usr/bin/env bash
# Seed 001's addition model trained by Keras (bench/peers/keras_addition.py) and by
# `s2s train --device cpu` on the same pairs, the same held-out 10% and the same batch size;
# prints accuracy and seconds per epoch side by side and the ratio of seconds per epoch.
#
#   scripts/compare_keras.sh [OUT_DIR]        (default OUT_DIR: build-exp/results/compare-keras)
#
# Environment: DIGITS (3), SIZE (50000), EPOCHS (5), BATCH (128), SEED (1),
#   PYTHON (/opt/tfvenv/bin/python if it exists, else python3; needs TensorFlow),
#   BUILD_DIR (build-exp; built with `ninja s2s_cli` when it has no s2s binary).
# Both sides use the machine's cores as their libraries choose (OpenBLAS for s2s, TensorFlow's
# thread pools for Keras). Run nothing else meanwhile: the seconds are wall-clock per epoch.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-exp}"
OUT_DIR="${1:-$BUILD_DIR/results/compare-keras}"
DIGITS="${DIGITS:-3}"
SIZE="${SIZE:-50000}"
EPOCHS="${EPOCHS:-5}"
BATCH="${BATCH:-128}"
SEED="${SEED:-1}"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x /opt/tfvenv/bin/python ]]; then PYTHON=/opt/tfvenv/bin/python; else PYTHON=python3; fi
fi
S2S="$BUILD_DIR/s2s"
mkdir -p "$OUT_DIR"

if [[ ! -x "$S2S" ]]; then
  [[ -f "$BUILD_DIR/build.ninja" ]] ||
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DS2S_ENABLE_CUDA=OFF -DS2S_BUILD_BENCHMARKS=OFF
  ninja -C "$BUILD_DIR" s2s_cli
fi

# One file of pairs, split once: the first 90% trains both models, the last 10% validates both.
"$S2S" gen --task addition --digits "$DIGITS" --reverse --size "$SIZE" --seed "$SEED" \
  >"$OUT_DIR/pairs.tsv"
n_valid=$((SIZE / 10))
head -n $((SIZE - n_valid)) "$OUT_DIR/pairs.tsv" >"$OUT_DIR/train.tsv"
tail -n "$n_valid" "$OUT_DIR/pairs.tsv" >"$OUT_DIR/valid.tsv"

echo "== Keras ($PYTHON bench/peers/keras_addition.py), $DIGITS-digit addition, $SIZE pairs, batch $BATCH"
"$PYTHON" "$ROOT/bench/peers/keras_addition.py" "$OUT_DIR/train.tsv" --valid "$OUT_DIR/valid.tsv" \
  --epochs "$EPOCHS" --batch-size "$BATCH" --hidden 128 --seed "$SEED" \
  --metrics "$OUT_DIR/keras.jsonl"

echo "== s2s train --device cpu, same files"
"$S2S" train --data "$OUT_DIR/train.tsv" --valid "$OUT_DIR/valid.tsv" --mode repeat --cell lstm \
  --hidden 128 --batch-size "$BATCH" --epochs "$EPOCHS" --early-stopping 0 --seed "$SEED" \
  --device cpu --samples 0 --metrics "$OUT_DIR/s2s.jsonl"

python3 - "$OUT_DIR/keras.jsonl" "$OUT_DIR/s2s.jsonl" <<'EOF'
import json, sys
keras = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
s2s = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
print()
print("epoch | keras val_acc | keras val_exact | keras s | s2s val_acc | s2s val_exact | s2s s | keras s / s2s s")
print("----- | ------------- | --------------- | ------- | ----------- | ------------- | ----- | ---------------")
for k, s in zip(keras, s2s):
    print(f"{k['epoch']:5d} | {k['val_accuracy']:13.4f} | {k['val_exact_match']:15.4f} | "
          f"{k['seconds']:7.2f} | {s['val_accuracy']:11.4f} | {s['val_exact_match']:13.4f} | "
          f"{s['seconds']:5.2f} | {k['seconds'] / s['seconds']:15.2f}")
n = min(len(keras), len(s2s))
# The first epoch carries start-up costs (graph tracing for Keras); the mean excludes it when
# there are more epochs.
rest = slice(1, n) if n > 1 else slice(0, n)
ks = sum(r["seconds"] for r in keras[rest]) / len(keras[rest])
ss = sum(r["seconds"] for r in s2s[rest]) / len(s2s[rest])
print(f"\nmean seconds per epoch (epochs {rest.start + 1}..{n}): keras {ks:.2f}, s2s {ss:.2f}, "
      f"ratio keras/s2s {ks / ss:.2f}")
EOF
