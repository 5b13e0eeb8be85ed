#!/usr/bin/env bash
# The tool's bidirectional encoder, bridge and dropout flags: a short train with them, what
# info shows, predict and eval on the checkpoint, resume keeping them, and each bad value as
# its own check of exit status + message + no output file.
# Usage: test_model_options.sh PATH/TO/s2s   (ctest: cli_model_options; tiny models, ~10 s)
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/harness.sh" "${1:-}" test_model_options.sh

expect_in_stdout() {
  grep -qF -- "$2" stdout.txt && pass "$1" || fail "$1: no '$2' in: $(cat stdout.txt)"
}

tiny=(--task reverse --digits 3 --size 300 --hidden 12 --batch-size 32 --samples 0)
mkdir -p run

# ---- the happy path -------------------------------------------------------------------------
expect_ok "train: --bidirectional --bridge linear --dropout 0.25, 2 layers" \
  "$s2s" train "${tiny[@]}" --epochs 2 --layers 2 --bidirectional --bridge linear --dropout 0.25 \
  --out run/bidir.safetensors
expect_in_stdout "train: describes the model" "bidirectional encoder (bridge linear), dropout 0.25"
expect_ok "info: bidirectional checkpoint" "$s2s" info --model run/bidir.safetensors
expect_in_stdout "info: shows the encoder and bridge" "encoder: bidirectional, decoder started through the linear bridge"
expect_in_stdout "info: shows dropout" "dropout 0.25 (training only)"
expect_in_stdout "info: lists the reverse direction's tensors" "encoder.rnn.weight_ih_l1_reverse"
expect_in_stdout "info: lists the bridge's tensors" "decoder.bridge_c.1.weight"
expect_ok "predict: bidirectional checkpoint" "$s2s" predict --model run/bidir.safetensors 123 45
[[ "$(wc -l <stdout.txt)" -eq 2 ]] && pass "predict: one line per input" ||
  fail "predict: $(cat stdout.txt)"
# Dropout is off when predicting: the same input twice gives the same output.
"$s2s" predict --model run/bidir.safetensors 123 >first.txt 2>&1
"$s2s" predict --model run/bidir.safetensors 123 >second.txt 2>&1
cmp -s first.txt second.txt && pass "predict: deterministic with dropout in the checkpoint" ||
  fail "predict: two runs differ"
expect_ok "resume: keeps bidirectional, bridge and dropout" \
  "$s2s" train --resume run/bidir.safetensors --epochs 3 --out run/resumed.safetensors
expect_ok "info: resumed checkpoint" "$s2s" info --model run/resumed.safetensors
expect_in_stdout "resume: still bidirectional with dropout" "dropout 0.25 (training only)"
expect_ok "train: the same seed twice with dropout" \
  "$s2s" train "${tiny[@]}" --epochs 1 --bidirectional --dropout 0.5 --out run/a.safetensors
expect_ok "train: again" \
  "$s2s" train "${tiny[@]}" --epochs 1 --bidirectional --dropout 0.5 --out run/b.safetensors
cmp -s run/a.safetensors run/b.safetensors && pass "train: dropout reproducible for a seed" ||
  fail "train: two runs with one seed wrote different checkpoints"
# Exact resume with dropout (masks from the seed and the optimizer step): 1 epoch + resume + 1
# epoch == 2 epochs, byte for byte.
"$s2s" train "${tiny[@]}" --epochs 2 --layers 2 --bidirectional --dropout 0.3 -q \
  --out run/whole.safetensors &&
  "$s2s" train "${tiny[@]}" --epochs 1 --layers 2 --bidirectional --dropout 0.3 -q \
    --out run/half.safetensors &&
  "$s2s" train --resume run/half.safetensors --epochs 2 -q &&
  cmp -s run/half.safetensors run/whole.safetensors &&
  pass "resume with dropout: 1 + 1 epochs give the same checkpoint bytes as 2" ||
  fail "resume with dropout: checkpoints differ"

# ---- bad values -----------------------------------------------------------------------------
expect_error "--dropout 1.5" "--dropout is 1.5 (allowed: 0 <= p < 1" \
  "$s2s" train "${tiny[@]}" --dropout 1.5 --out out/m.safetensors
expect_error "--dropout -0.1" "--dropout is -0.1 (allowed: 0 <= p < 1" \
  "$s2s" train "${tiny[@]}" --dropout -0.1 --out out/m.safetensors
expect_error "--dropout 1" "--dropout is 1 (allowed: 0 <= p < 1" \
  "$s2s" train "${tiny[@]}" --dropout 1 --out out/m.safetensors
expect_error "--dropout nan" "--dropout" \
  "$s2s" train "${tiny[@]}" --dropout nan --out out/m.safetensors
expect_error "--bridge x" "--bridge: unknown bridge 'x' (allowed: sum, linear)" \
  "$s2s" train "${tiny[@]}" --bidirectional --bridge x --out out/m.safetensors
expect_error "--bridge without --bidirectional" "--bridge applies to a bidirectional encoder only" \
  "$s2s" train "${tiny[@]}" --bridge linear --out out/m.safetensors
expect_error "resume with --dropout" "--dropout cannot be used with --resume" \
  "$s2s" train --resume run/bidir.safetensors --dropout 0.1 --out out/m.safetensors
expect_error "resume with --bidirectional" "--bidirectional cannot be used with --resume" \
  "$s2s" train --resume run/bidir.safetensors --bidirectional --out out/m.safetensors

printf '\n%d checks, %d failed\n' "$checks" "$failures"
[[ $failures -eq 0 ]]
