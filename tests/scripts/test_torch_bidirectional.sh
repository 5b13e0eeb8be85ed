#!/usr/bin/env bash
# Bidirectional checkpoints in PyTorch: scripts/torch_reference.py loads each one into torch.nn
# modules with load_state_dict(strict=True) (the encoder a torch.nn.LSTM/GRU/RNN with
# bidirectional=True, the linear bridge a ModuleList of torch.nn.Linear) and must predict what
# `s2s predict` predicts: every cell, 1 and 2 layers, sum and linear bridge, both decoders,
# one-hot and embedding inputs; one model trained with dropout (off when predicting).
# Usage: test_torch_bidirectional.sh PATH/TO/s2s   (ctest: checkpoint_torch_bidirectional;
# ~15 s; exits 77, reported as skipped, when PyTorch is not installed)
set -uo pipefail
s2s="${1:?usage: test_torch_bidirectional.sh PATH/TO/s2s}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python3 -c 'import torch' 2>/dev/null || { echo "PyTorch is not installed: skipped" >&2; exit 77; }
work="$(mktemp -d "${TMPDIR:-/tmp}/s2s_torch_bidirectional.XXXXXX")"
trap 'rm -rf "$work"' EXIT
failures=0
compare() {
  local name="$1" model="$2"
  shift 2
  local ours theirs
  ours="$("$s2s" predict --model "$model" "$@" 2>&1)" ||
    { echo "FAIL $name: s2s predict: $ours"; failures=$((failures + 1)); return; }
  theirs="$(python3 "$root/scripts/torch_reference.py" "$model" "$@" 2>&1)" ||
    { echo "FAIL $name: torch_reference: $theirs"; failures=$((failures + 1)); return; }
  if [[ "$ours" == "$theirs" ]]; then
    echo "ok   $name: $(echo "$ours" | tr '\n' '|')"
  else
    echo "FAIL $name: s2s [$(echo "$ours" | tr '\n' '|')] torch [$(echo "$theirs" | tr '\n' '|')]"
    failures=$((failures + 1))
  fi
}
# Briefly trained models: their predictions already depend on the input (a strong comparison),
# and argmax ties between float32 runs are unlikely.
train() { "$s2s" train -q --samples 0 --lr 0.01 --bidirectional "$@" ||
  { echo "FAIL training $*"; exit 1; }; }
train --task reverse --digits 4 --size 600 --epochs 3 --hidden 16 --layers 2 --bridge linear --dropout 0.3 \
  --out "$work/lstm_linear.safetensors"
compare "lstm x2, linear bridge, teacher forcing, one-hot, dropout 0.3" \
  "$work/lstm_linear.safetensors" 1234 56 8 9071
train --task copy --digits 4 --size 600 --epochs 3 --hidden 12 --cell gru --embedding 6 --out "$work/gru_sum.safetensors"
compare "gru, sum bridge, teacher forcing, embedding" "$work/gru_sum.safetensors" 1234 77 9 3210
train --task reverse --digits 4 --size 600 --epochs 3 --hidden 12 --cell rnn --layers 2 --bridge sum \
  --out "$work/rnn_sum.safetensors"
compare "rnn x2, sum bridge, teacher forcing, one-hot" "$work/rnn_sum.safetensors" 1234 56 8
train --task copy --digits 3 --size 1000 --epochs 5 --hidden 16 --cell gru --layers 2 --mode repeat --bridge linear \
  --out "$work/gru_repeat_linear.safetensors"
compare "gru x2, linear bridge, repeat, one-hot" "$work/gru_repeat_linear.safetensors" 123 56 8 907
[[ $failures -eq 0 ]]
