#!/usr/bin/env bash
# The README's main job, end to end: installs what is missing (scripts/setup.sh), builds s2s
# (Release, Ninja, build/; CUDA when nvcc exists), trains seed 001's 3-digit reversed addition
# for a few epochs (about 1-2 minutes on a 2-core CPU), then predicts a few sums, evaluates the
# model on fresh questions and, when matplotlib is there, plots the curves. Then the flagship
# job: Hofstadter's pq-system (seed 001 part 3) with up to 100 dashes per operand, learned
# through the tool in about a minute (natural-length questions, teacher forcing, length
# buckets, stopping at 99% held-out exact match), and a few typed questions answered.
#
# Environment: S2S_BUILD_DIR (default build), S2S_JOBS (default: all cores),
#              S2S_DEMO_EPOCHS (default 8), S2S_CMAKE_ARGS (extra configure arguments).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh

build="${S2S_BUILD_DIR:-build}"
jobs="${S2S_JOBS:-$(nproc)}"
epochs="${S2S_DEMO_EPOCHS:-8}"
demo="$build/demo"

# As scripts/test.sh: CUDA is built when nvcc exists (CMakeLists.txt also finds
# /usr/local/cuda/bin/nvcc when it is not on PATH).
cuda=OFF
if command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]]; then cuda=ON; fi

step() { printf '\n== %s\n' "$*"; }

step "configure ($build, Release, CUDA $cuda) and build the s2s tool (-j$jobs)"
# shellcheck disable=SC2086  # S2S_CMAKE_ARGS is a list of words on purpose
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DS2S_ENABLE_CUDA="$cuda" \
  ${S2S_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$jobs" --target s2s_cli
s2s="$build/s2s"
mkdir -p "$demo"

step "devices"
"$s2s" devices

step "train: 3-digit addition, reversed queries (seed 001), $epochs epochs"
# The seed's model and data: LSTM 128 -> repeat -> LSTM 128 -> softmax, one-hot characters,
# 50,000 questions with 10% held out, batch 128, Adam, early stopping with patience 3; with a
# learning rate of 0.01 (clipped at global norm 1) instead of Keras' 0.001, so that a few
# epochs are enough: the seed's rate needs about 30 (validation exact match ~0.95 by epoch 7
# here, against ~0.10 at 0.001).
"$s2s" train --task addition --digits 3 --reverse --epochs "$epochs" --lr 0.01 --clip 1 \
  --device auto --out "$demo/addition.safetensors" --metrics "$demo/addition.jsonl"
# The epoch with the lowest validation loss (a high rate makes the last one noisier).
model="$demo/addition.best.safetensors"

step "predict: type sums as you read them (s2s pads and reverses them as in training)"
sums=(123+45 999+1 500+500 7+8 42+58 314+271 86+9 640+205)
mapfile -t answers < <("$s2s" predict --model "$model" "${sums[@]}")
right=0
for i in "${!sums[@]}"; do
  expected=$(( ${sums[$i]%+*} + ${sums[$i]#*+} ))
  mark="✗"
  if [[ "${answers[$i]}" == "$expected" ]]; then mark="✓"; right=$((right + 1)); fi
  printf '  %-8s = %-5s (%s) %s\n' "${sums[$i]}" "${answers[$i]}" "$expected" "$mark"
done
echo "  $right of ${#sums[@]} right"

step "eval: 1,000 fresh questions"
"$s2s" eval --model "$model" --task addition --size 1000

if python3 -c "import matplotlib" 2>/dev/null; then
  step "plot"
  python3 scripts/plot_metrics.py "$demo/addition.jsonl" -o "$demo/addition.png"
else
  echo
  echo "(for loss and accuracy curves: python3 -m pip install matplotlib, then"
  echo " python3 scripts/plot_metrics.py $demo/addition.jsonl -o $demo/addition.png)"
fi
step "train: the pq-system, up to 100 dashes per operand (seed 001 part 3), until 99% exact match"
# "--p---" -> "q-----": 5,050 questions, 10% held out; natural lengths with an end token (the
# seed's space padding to 201 characters is --padded, which this model does not learn).
"$s2s" train --task pq --max-dashes 100 --eval-every 50 --target-exact-match 0.99 --samples 3 \
  --device auto --out "$demo/pq.safetensors" --metrics "$demo/pq.jsonl"

step "predict: typed pq questions (a dashes, p, b dashes -> q and a+b dashes)"
questions=()
for ab in 2:3 17:25 60:40 99:100 1:64 73:8; do
  a=${ab%:*} b=${ab#*:}
  questions+=("$(printf -- '-%.0s' $(seq "$a"))p$(printf -- '-%.0s' $(seq "$b"))")
done
mapfile -t replies < <("$s2s" predict --model "$demo/pq.safetensors" -- "${questions[@]}")
right=0
for i in "${!questions[@]}"; do
  q="${questions[$i]}" reply="${replies[$i]}"
  a=${q%%p*} b=${q#*p}
  expected="q$(printf -- '-%.0s' $(seq $(( ${#a} + ${#b} ))))"
  mark="✗"
  if [[ "$reply" == "$expected" ]]; then mark="✓"; right=$((right + 1)); fi
  printf '  %3d + %3d: %s... -> %s... (%d dashes) %s\n' "${#a}" "${#b}" "${q:0:12}" "${reply:0:12}" \
    "$(( $(tr -cd '-' <<<"$reply" | wc -c) ))" "$mark"
done
echo "  $right of ${#questions[@]} right"

echo
echo "model: $model (last epoch: $demo/addition.safetensors)"
echo "metrics: $demo/addition.jsonl"
echo "pq model: $demo/pq.safetensors, metrics: $demo/pq.jsonl"
