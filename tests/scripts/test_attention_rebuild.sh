#!/usr/bin/env bash
# Checkpoints with attention (dot, general, additive; with and without input feeding; LSTM and
# GRU; one-hot and embedding inputs; two layers), rebuilt from docs/CHECKPOINT.md's equations
# by scripts/numpy_reference.py and, where PyTorch is installed, scripts/torch_reference.py
# (torch.nn modules, load_state_dict(strict=True)), predict what `s2s predict` predicts; and
# scripts/check_checkpoint.py finds exactly the documented tensors in them.
# Usage: test_attention_rebuild.sh PATH/TO/s2s   (ctest: checkpoint_attention_rebuild; ~15 s)
set -uo pipefail
s2s="${1:?usage: test_attention_rebuild.sh PATH/TO/s2s}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python3 -c 'import numpy, safetensors' 2>/dev/null ||
  { echo "numpy or safetensors missing (scripts/setup.sh installs them)" >&2; exit 1; }
have_torch=1
python3 -c 'import torch' 2>/dev/null || {
  have_torch=0
  echo "note: PyTorch is not installed: scripts/torch_reference.py is not compared (numpy is)"
}
work="$(mktemp -d "${TMPDIR:-/tmp}/s2s_attention_rebuild.XXXXXX")"
trap 'rm -rf "$work"' EXIT
failures=0
compare_with() {
  local reference="$1" name="$2" model="$3" ours="$4"
  shift 4
  local theirs
  theirs="$(python3 "$root/scripts/$reference" "$model" "$@" 2>&1)" ||
    { echo "FAIL $name: $reference: $theirs"; failures=$((failures + 1)); return; }
  if [[ "$ours" == "$theirs" ]]; then
    echo "ok   $name ($reference): $(echo "$ours" | tr '\n' '|')"
  else
    echo "FAIL $name: s2s [$(echo "$ours" | tr '\n' '|')] $reference [$(echo "$theirs" | tr '\n' '|')]"
    failures=$((failures + 1))
  fi
}
compare() {
  local name="$1" model="$2"
  shift 2
  local ours message
  ours="$("$s2s" predict --model "$model" "$@" 2>&1)" ||
    { echo "FAIL $name: s2s predict: $ours"; failures=$((failures + 1)); return; }
  if message="$(python3 "$root/scripts/check_checkpoint.py" "$model" 2>&1)"; then
    echo "ok   $name (check_checkpoint.py: every tensor named and shaped as documented)"
  else
    echo "FAIL $name: check_checkpoint.py: $message"
    failures=$((failures + 1))
  fi
  compare_with numpy_reference.py "$name" "$model" "$ours" "$@"
  [[ $have_torch -eq 1 ]] && compare_with torch_reference.py "$name" "$model" "$ours" "$@"
}
# Partly trained models: their outputs depend on the input (an untrained one writes the same
# symbol everywhere), so the comparison is strong.
train() { "$s2s" train -q --samples 0 --lr 0.01 --task reverse --digits 6 --size 3000 \
  --epochs 5 --hidden 16 "$@" || { echo "FAIL training $*"; exit 1; }; }
train --attention dot --out "$work/dot.safetensors"
compare "lstm, dot, one-hot" "$work/dot.safetensors" 123456 42 7 9876 50031 888
train --attention general --input-feed --layers 2 --embedding 5 --out "$work/general_feed.safetensors"
compare "lstm x2, general, input feeding, embedding" "$work/general_feed.safetensors" 123456 42 7 9876 50031 888
train --attention additive --cell gru --out "$work/additive.safetensors"
compare "gru, additive, one-hot" "$work/additive.safetensors" 123456 42 7 9876 50031 888
train --attention additive --input-feed --cell gru --layers 2 --out "$work/additive_feed.safetensors"
compare "gru x2, additive, input feeding, one-hot" "$work/additive_feed.safetensors" 123456 42 7 9876 50031 888
train --attention dot --input-feed --cell rnn --embedding 4 --out "$work/dot_feed.safetensors"
compare "rnn, dot, input feeding, embedding" "$work/dot_feed.safetensors" 123456 42 7 9876 50031 888
[[ $failures -eq 0 ]]
