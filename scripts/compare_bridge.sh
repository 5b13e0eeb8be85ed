#!/usr/bin/env bash
# The bidirectional encoder's bridge, sum against linear (docs/CHECKPOINT.md), side by side at
# one budget (same data, seed, batch size, epochs) on the CPU: for each task, seed and bridge,
# `s2s train --bidirectional --bridge B`, then the last epoch's validation exact match and loss.
# The unidirectional encoder runs alongside for reference. Prints a Markdown table.
#
#   scripts/compare_bridge.sh [OUT_DIR]     (default build/results/compare-bridge)
#
# Environment: BUILD_DIR (default build, with s2s built), SEEDS (default "1 2 3"), EPOCHS
# (default 20), THREADS (BLAS threads, default 1).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
OUT_DIR="${1:-$BUILD_DIR/results/compare-bridge}"
SEEDS="${SEEDS:-1 2 3}"
EPOCHS="${EPOCHS:-20}"
export OPENBLAS_NUM_THREADS="${THREADS:-1}"
S2S="$BUILD_DIR/s2s"
[[ -x "$S2S" ]] || { echo "compare_bridge: no $S2S (build s2s_cli first)" >&2; exit 2; }
[[ "$EPOCHS" =~ ^[1-9][0-9]*$ ]] || { echo "compare_bridge: EPOCHS is '$EPOCHS'" >&2; exit 2; }
mkdir -p "$OUT_DIR"

# task name -> flags: reverse and copy of up to 12 digits (teacher forcing; the whole string
# must pass through the bridged states), on 2-layer LSTMs so that every layer's bridge takes
# part. (3-digit addition with the repeat decoder learns nothing at this budget with any
# encoder, so it tells the bridges apart not at all.)
declare -A TASKS=(
  [reverse12]="--task reverse --digits 12 --size 4000 --hidden 64 --layers 2"
  [copy12]="--task copy --digits 12 --size 4000 --hidden 64 --layers 2"
)
printf '| task | encoder | seeds | val exact match (each seed) | mean | mean val loss |\n'
printf '|---|---|---|---|---|---|\n'
for task in reverse12 copy12; do
  for variant in unidirectional sum linear; do
    flags=()
    [[ $variant != unidirectional ]] && flags=(--bidirectional --bridge "$variant")
    matches=() losses=()
    for seed in $SEEDS; do
      run="$OUT_DIR/$task-$variant-$seed"
      # shellcheck disable=SC2086
      "$S2S" train -q --samples 0 ${TASKS[$task]} --epochs "$EPOCHS" --early-stopping 0 \
        --seed "$seed" "${flags[@]}" --metrics "$run.jsonl" --out "$run.safetensors" \
        >"$run.log" 2>&1 || { echo "compare_bridge: $task $variant seed $seed failed" >&2; exit 1; }
      last="$(tail -1 "$run.jsonl")"
      matches+=("$(python3 -c 'import json,sys; print("%.3f" % json.loads(sys.argv[1])["val_exact_match"])' "$last")")
      losses+=("$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["val_loss"])' "$last")")
    done
    mean_match="$(python3 -c 'import sys; v=[float(x) for x in sys.argv[1:]]; print(f"{sum(v)/len(v):.3f}")' "${matches[@]}")"
    mean_loss="$(python3 -c 'import sys; v=[float(x) for x in sys.argv[1:]]; print(f"{sum(v)/len(v):.4f}")' "${losses[@]}")"
    printf '| %s | %s | %s | %s | %s | %s |\n' "$task" "$variant" "$SEEDS" "${matches[*]}" \
      "$mean_match" "$mean_loss"
  done
done
