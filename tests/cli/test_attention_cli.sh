#!/usr/bin/env bash
# The tool's attention flags end to end: `train --attention KIND [--input-feed]`, the kind shown
# by `info`, `predict`, an exact resume, `--init` (which keeps the attention and refuses another),
# and each bad value as its own check of exit status + message + no output file.
# Usage: test_attention_cli.sh PATH/TO/s2s     (ctest: cli_attention; tiny models, ~10 s)
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/harness.sh" "${1:-}" test_attention_cli.sh

mkdir -p run
task=(--task reverse --digits 5 --size 300 --hidden 12 --batch-size 32 --samples 0 -q)
expect_ok "train: --attention additive --input-feed" \
  "$s2s" train "${task[@]}" --epochs 2 --attention additive --input-feed --out run/add.safetensors
expect_ok "info: additive" "$s2s" info --model run/add.safetensors
grep -q "attention: additive, input feeding" stdout.txt && grep -q "decoder.attention.v.weight" stdout.txt &&
  pass "info: shows the attention kind, input feeding and its tensors" || fail "info: $(cat stdout.txt)"
expect_ok "predict: attention model" "$s2s" predict --model run/add.safetensors 12345 7
[[ "$(wc -l <stdout.txt)" -eq 2 ]] && pass "predict: one line per input" || fail "predict: $(cat stdout.txt)"

# A task whose default decoder is repeat (addition) takes teacher forcing when attention is asked.
expect_ok "train: --attention dot on a repeat-default task" \
  "$s2s" train --task addition --digits 1 --size 50 --epochs 1 --hidden 8 --samples 0 -q \
  --attention dot --out run/dot.safetensors
expect_ok "info: dot" "$s2s" info --model run/dot.safetensors
grep -q "decoder teacher_forcing" stdout.txt && grep -q "attention: dot, no input feeding" stdout.txt &&
  pass "info: dot attention on a teacher-forcing decoder" || fail "info dot: $(cat stdout.txt)"

# Exact resume: 1 epoch + resume + 1 epoch == 2 epochs, byte for byte.
"$s2s" train "${task[@]}" --epochs 1 --attention general --input-feed --out run/g1.safetensors &&
  "$s2s" train "${task[@]}" --epochs 2 --attention general --input-feed --out run/g2.safetensors &&
  "$s2s" train --resume run/g1.safetensors --epochs 2 -q &&
  cmp -s run/g1.safetensors run/g2.safetensors &&
  pass "resume: 1 + 1 epochs with attention give the same checkpoint bytes as 2" ||
  fail "resume with attention: checkpoints differ"

expect_ok "train: --init keeps the checkpoint's attention" \
  "$s2s" train --task reverse --digits 6 --size 300 --batch-size 32 --samples 0 -q --epochs 1 \
  --init run/add.safetensors --out run/init.safetensors
expect_ok "info: warm-started attention model" "$s2s" info --model run/init.safetensors
grep -q "attention: additive, input feeding" stdout.txt && pass "--init: attention taken from the checkpoint" ||
  fail "--init info: $(cat stdout.txt)"

expect_error "--init with another attention" "incompatible attention: the checkpoint has additive, this run needs dot" \
  "$s2s" train "${task[@]}" --epochs 1 --init run/add.safetensors --attention dot \
  --out out/m.safetensors --metrics out/m.jsonl
expect_error "--attention unknown" "--attention: unknown attention kind 'luong' (allowed: none, dot, general, additive)" \
  "$s2s" train "${task[@]}" --epochs 1 --attention luong --out out/m.safetensors --metrics out/m.jsonl
expect_error "--input-feed without attention" "--input-feed feeds the attentional vector back" \
  "$s2s" train "${task[@]}" --epochs 1 --input-feed --out out/m.safetensors --metrics out/m.jsonl
expect_error "--attention with the repeat decoder" "--attention dot needs --mode teacher_forcing" \
  "$s2s" train "${task[@]}" --epochs 1 --mode repeat --attention dot --out out/m.safetensors \
  --metrics out/m.jsonl
expect_error "--attention with --resume" "--attention cannot be used with --resume" \
  "$s2s" train --resume run/add.safetensors --attention dot --out out/m.safetensors

printf '\n%d checks, %d failed\n' "$checks" "$failures"
[[ $failures -eq 0 ]]
