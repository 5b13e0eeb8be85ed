#!/usr/bin/env bash
# Finding 11: a checkpoint written by the tool, rebuilt from its documented metadata alone
# (scripts/numpy_reference.py: safetensors + numpy, the torch.nn equations), predicts what
# `s2s predict` predicts, for every cell, decoder mode and input kind, and for format 1.
# Usage: test_numpy_rebuild.sh PATH/TO/s2s   (ctest: checkpoint_numpy_rebuild; ~15 s)
set -uo pipefail
s2s="${1:?usage: test_numpy_rebuild.sh PATH/TO/s2s}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python3 -c 'import numpy, safetensors' 2>/dev/null ||
  { echo "numpy or safetensors missing (scripts/setup.sh installs them)" >&2; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/s2s_numpy_rebuild.XXXXXX")"
trap 'rm -rf "$work"' EXIT
failures=0
compare() {
  local name="$1" model="$2"
  shift 2
  local ours theirs
  ours="$("$s2s" predict --model "$model" "$@" 2>&1)" || { echo "FAIL $name: s2s predict: $ours"; failures=$((failures + 1)); return; }
  theirs="$(python3 "$root/scripts/numpy_reference.py" "$model" "$@" 2>&1)" ||
    { echo "FAIL $name: numpy_reference: $theirs"; failures=$((failures + 1)); return; }
  if [[ "$ours" == "$theirs" ]]; then
    echo "ok   $name: $(echo "$ours" | tr '\n' '|')"
  else
    echo "FAIL $name: s2s [$(echo "$ours" | tr '\n' '|')] numpy [$(echo "$theirs" | tr '\n' '|')]"
    failures=$((failures + 1))
  fi
}
# A near-untrained model (tiny learning rate) has diverse outputs, so the comparison is strong.
train() { "$s2s" train -q --samples 0 --lr 0.000001 "$@" || { echo "FAIL training $*"; exit 1; }; }
train --task addition --digits 2 --size 300 --epochs 1 --hidden 16 --out "$work/lstm_repeat.safetensors"
compare "lstm, repeat, one-hot (addition)" "$work/lstm_repeat.safetensors" 12+34 5+5 99+1 0+7
train --task copy --digits 4 --size 300 --epochs 1 --hidden 12 --cell gru --embedding 6 \
  --out "$work/gru_tf_embedding.safetensors"
compare "gru, teacher forcing, embedding (copy)" "$work/gru_tf_embedding.safetensors" 1234 77 9 3210
train --task reverse --digits 4 --size 300 --epochs 1 --hidden 12 --cell rnn --layers 2 \
  --out "$work/rnn_tf_two_layers.safetensors"
compare "rnn x2, teacher forcing, one-hot (reverse)" "$work/rnn_tf_two_layers.safetensors" 1234 56 8
train --task progression --epochs 1 --hidden 12 --out "$work/progression.safetensors"
compare "lstm, teacher forcing, real-valued inputs (progression)" "$work/progression.safetensors" \
  "1 3 9 27" "0 0 0"
compare "format 1 checkpoint" "$root/tests/fixtures/format1_addition.safetensors" 1+2 3+4 9+9
[[ $failures -eq 0 ]]
