#!/usr/bin/env bash
# Attention and bidirectional encoders against the plain encoder-decoder, side by side in one
# run on the CPU, at the same budget (same data, seed, batch size and number of optimizer steps):
#   for each task (reverse of strings up to 50 characters, pq up to 100 and 300 dashes) and each
#   variant (plain, attention, bidirectional, both), `s2s train` with validation exact match every
#   50 steps (its curve), then greedy and beam-search exact match (length penalty 1, the default,
#   and 0) of the trained model on a fresh test sample (`s2s gen` with another seed) through
#   `s2s predict`.
#
#   scripts/compare_attention.sh [OUT_DIR]          (default build-exp/results/compare-attention)
#
# Writes OUT_DIR/<task>-<variant>/{run.jsonl,model.safetensors,train.log}, OUT_DIR/results.tsv,
# OUT_DIR/<task>.png (the variants' validation exact match against steps, with matplotlib) and
# prints a Markdown table.
#
# Environment: BUILD_DIR (default build-exp; built with `ninja s2s_cli` when it has no s2s),
# TASKS (default "reverse50 pq100 pq300"), VARIANTS (default "plain attention bidirectional
# both"), ATTENTION (the kind for the attention variants, default general), BEAM (default 5),
# TEST_SIZE (default 300), THREADS (BLAS threads, default 1), and per task the budget in epochs:
# REVERSE_EPOCHS (default 8, of 10,000 strings), PQ100_EPOCHS (default 2, of the 10,000 pairs),
# PQ300_EPOCHS (default 2) of PQ300_SIZE pairs (default 10,000). SKIP_TRAIN=1 decodes again with
# the models (and training seconds) a previous run left in OUT_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-exp}"
OUT_DIR="${1:-$BUILD_DIR/results/compare-attention}"
TASKS="${TASKS:-reverse50 pq100 pq300}"
VARIANTS="${VARIANTS:-plain attention bidirectional both}"
ATTENTION="${ATTENTION:-general}"
BEAM="${BEAM:-5}"
TEST_SIZE="${TEST_SIZE:-300}"
export OPENBLAS_NUM_THREADS="${THREADS:-1}"
S2S="$BUILD_DIR/s2s"

fail() { echo "compare_attention: $*" >&2; exit 2; }
for n in BEAM TEST_SIZE OPENBLAS_NUM_THREADS; do
  [[ "${!n}" =~ ^[1-9][0-9]*$ ]] || fail "$n is '${!n}' (allowed: a whole number >= 1)"
done
mkdir -p "$OUT_DIR"
if [[ ! -x "$S2S" ]]; then
  [[ -f "$BUILD_DIR/build.ninja" ]] ||
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DS2S_ENABLE_CUDA=OFF \
      -DS2S_BUILD_BENCHMARKS=OFF
  ninja -C "$BUILD_DIR" s2s_cli
fi

# The task's data flags (shared by train and gen) and its training budget.
data_flags() {
  case "$1" in
    reverse50) echo "--task reverse --digits 50" ;;
    pq100) echo "--task pq --max-dashes 100" ;;
    pq300) echo "--task pq --max-dashes 300" ;;
    *) fail "unknown task '$1' (allowed: reverse50, pq100, pq300)" ;;
  esac
}
budget_flags() {
  case "$1" in
    reverse50) echo "--size 10000 --epochs ${REVERSE_EPOCHS:-8}" ;;
    pq100) echo "--epochs ${PQ100_EPOCHS:-2}" ;;
    pq300) echo "--size ${PQ300_SIZE:-10000} --epochs ${PQ300_EPOCHS:-2}" ;;
  esac
}
variant_flags() {
  case "$1" in
    plain) echo "" ;;
    attention) echo "--attention $ATTENTION" ;;
    bidirectional) echo "--bidirectional" ;;
    both) echo "--attention $ATTENTION --bidirectional" ;;
    *) fail "unknown variant '$1' (allowed: plain, attention, bidirectional, both)" ;;
  esac
}

printf 'task\tvariant\tsteps\tseconds\tval_exact_match\tgreedy_exact_match\tbeam_exact_match\tbeam_a0_exact_match\n' \
  >"$OUT_DIR/results.tsv"
for task in $TASKS; do
  test_file="$OUT_DIR/$task-test.tsv"
  # shellcheck disable=SC2046  # the flags are words on purpose
  "$S2S" gen $(data_flags "$task") --seed 777 --size "$TEST_SIZE" >"$test_file"
  for variant in $VARIANTS; do
    run="$OUT_DIR/$task-$variant"
    mkdir -p "$run"
    echo "+ $task / $variant" >&2
    if [[ "${SKIP_TRAIN:-0}" != 1 ]]; then
      rm -f "$run/run.jsonl"
      start=$(date +%s.%N)
      # shellcheck disable=SC2046
      "$S2S" train $(data_flags "$task") $(budget_flags "$task") $(variant_flags "$variant") \
        --seed 1 --device cpu --eval-every 50 --eval-examples 200 --samples 0 --early-stopping 0 \
        --metrics "$run/run.jsonl" --out "$run/model.safetensors" >"$run/train.log" 2>&1
      end=$(date +%s.%N)
      python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" \
        "$start" "$end" >"$run/seconds"
    fi
    [[ -s "$run/model.safetensors" && -s "$run/seconds" ]] ||
      fail "$run has no trained model (run without SKIP_TRAIN first)"
    "$S2S" predict --model "$run/model.safetensors" --raw --device cpu <"$test_file" \
      >"$run/greedy.txt"
    "$S2S" predict --model "$run/model.safetensors" --raw --device cpu --beam-size "$BEAM" \
      <"$test_file" >"$run/beam.txt"
    "$S2S" predict --model "$run/model.safetensors" --raw --device cpu --beam-size "$BEAM" \
      --length-penalty 0 <"$test_file" >"$run/beam_a0.txt"
    python3 - "$task" "$variant" "$run" "$test_file" >>"$OUT_DIR/results.tsv" <<'ROW'
import json, sys
task, variant, run, test_file = sys.argv[1:]
rows = [json.loads(l) for l in open(f"{run}/run.jsonl") if l.strip()]
last = rows[-1]
targets = [line.rstrip("\n").split("\t", 1)[1] for line in open(test_file) if "\t" in line]
def exact(path):
    got = [line.rstrip("\n") for line in open(path)]
    assert len(got) == len(targets), f"{path}: {len(got)} predictions for {len(targets)} inputs"
    return sum(g == t for g, t in zip(got, targets)) / len(targets)
seconds = open(f"{run}/seconds").read().strip()
print(f"{task}\t{variant}\t{last['step']}\t{seconds}\t"
      f"{last.get('val_exact_match', float('nan')):.4f}\t{exact(f'{run}/greedy.txt'):.4f}\t"
      f"{exact(f'{run}/beam.txt'):.4f}\t{exact(f'{run}/beam_a0.txt'):.4f}")
ROW
  done
  if python3 -c 'import matplotlib' 2>/dev/null; then
    python3 - "$OUT_DIR" "$task" "$VARIANTS" <<'PLOT'
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
out, task, variants = sys.argv[1], sys.argv[2], sys.argv[3].split()
fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=100)
for variant in variants:
    rows = [json.loads(l) for l in open(f"{out}/{task}-{variant}/run.jsonl") if l.strip()]
    points = [(r["step"], r["val_exact_match"]) for r in rows if "val_exact_match" in r]
    points.sort()
    ax.plot([p[0] for p in points], [p[1] for p in points], ".-", label=variant)
ax.set_xlabel("optimizer step")
ax.set_ylabel("validation exact match")
ax.set_ylim(-0.02, 1.02)
ax.set_title(f"{task}: plain, attention, bidirectional (CPU, same budget)")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(f"{out}/{task}.png")
PLOT
  else
    echo "compare_attention: matplotlib missing, no plots (python3 -m pip install matplotlib)" >&2
  fi
done

python3 - "$OUT_DIR/results.tsv" "$BEAM" <<'TABLE'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
k = sys.argv[2]
print(f"| task | variant | steps | seconds | val exact match | greedy | beam {k} | beam {k}, length penalty 0 |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    print(f"| {r['task']} | {r['variant']} | {r['steps']} | {r['seconds']} | {r['val_exact_match']} "
          f"| {r['greedy_exact_match']} | {r['beam_exact_match']} | {r['beam_a0_exact_match']} |")
TABLE
