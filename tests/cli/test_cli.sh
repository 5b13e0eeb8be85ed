#!/usr/bin/env bash
# Runs the real s2s binary: a short train -> checkpoint -> predict -> eval -> info -> gen, an
# exact resume, and each bad input as its own check of exit status + message + no output file.
# Usage: test_cli.sh PATH/TO/s2s     (ctest runs it as the `cli` test; tiny models, ~20 s)
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/harness.sh" "${1:-}" test_cli.sh

# expect_error NAME FRAGMENT COMMAND...: non-zero exit, stderr "s2s: error: ...FRAGMENT...",
# and nothing left in out/ (the folder every failing run writes into).
expect_error() {
  local name="$1" fragment="$2"
  shift 2
  rm -rf out && mkdir out
  "$@" >stdout.txt 2>stderr.txt
  local status=$?
  local message
  message="$(cat stderr.txt)"
  if [[ $status -eq 0 ]]; then
    fail "$name: exit status 0 (expected an error)"
  elif [[ "$message" != "s2s: error: "* ]]; then
    fail "$name: stderr does not start with 's2s: error: ': $message"
  elif [[ "$message" != *"$fragment"* ]]; then
    fail "$name: message lacks '$fragment': $message"
  elif [[ -n "$(ls -A out)" ]]; then
    fail "$name: left files behind: $(ls -A out | tr '\n' ' ')"
  else
    pass "$name (exit $status: ${message#s2s: error: })"
  fi
}

# expect_ok NAME COMMAND...: exit status 0.
expect_ok() {
  local name="$1"
  shift
  if "$@" >stdout.txt 2>stderr.txt; then
    pass "$name"
  else
    fail "$name: exit status $? - $(cat stderr.txt)"
  fi
}

tiny=(--hidden 16 --batch-size 64 --samples 2)

# ---- the happy path -------------------------------------------------------------------------
mkdir -p run
expect_ok "train: 2-digit addition, 2 epochs" \
  "$s2s" train --task addition --digits 2 --reverse --size 600 --epochs 2 "${tiny[@]}" \
  --out run/model.safetensors --metrics run/metrics.jsonl
grep -q "epoch 2/2" stdout.txt && pass "train: one line per epoch off a terminal" ||
  fail "train: no 'epoch 2/2' line: $(cat stdout.txt)"
grep -q " | " stdout.txt && pass "train: validation samples printed" ||
  fail "train: no validation samples"
[[ -s run/model.safetensors ]] && pass "train: checkpoint written" || fail "train: no checkpoint"
[[ -s run/model.best.safetensors ]] && pass "train: best checkpoint written" ||
  fail "train: no best checkpoint"
if [[ "$(wc -l <run/metrics.jsonl)" -eq 2 ]] && grep -q '"val_exact_match"' run/metrics.jsonl &&
  grep -q '"examples_per_second"' run/metrics.jsonl && grep -q '"lr"' run/metrics.jsonl; then
  pass "train: metrics has one JSON line per epoch"
else
  fail "train: metrics file: $(cat run/metrics.jsonl)"
fi
[[ -z "$(ls run | grep -v -e '^model.safetensors$' -e '^model.best.safetensors$' -e '^metrics.jsonl$')" ]] &&
  pass "train: no temporary files left" || fail "train: stray files: $(ls run)"

expect_ok "predict: arguments" "$s2s" predict --model run/model.safetensors "12+34" "5+5"
[[ "$(wc -l <stdout.txt)" -eq 2 ]] && pass "predict: one line per argument" ||
  fail "predict: $(cat stdout.txt)"
printf '1+1\n22+3\n9+9\n' | "$s2s" predict --model run/model.safetensors >stdout.txt 2>stderr.txt &&
  [[ "$(wc -l <stdout.txt)" -eq 3 ]] && pass "predict: one line per stdin line" ||
  fail "predict stdin: $(cat stdout.txt stderr.txt)"

expect_ok "eval: task" "$s2s" eval --model run/model.safetensors --task addition --size 100
grep -q "exact match" stdout.txt && grep -q "by target length" stdout.txt &&
  pass "eval: loss, accuracies and the length table" || fail "eval output: $(cat stdout.txt)"
"$s2s" gen --task addition --digits 2 --reverse --size 20 --seed 9 >pairs.tsv 2>stderr.txt
expect_ok "eval: pair file" "$s2s" eval --model run/model.safetensors --data pairs.tsv

expect_ok "info" "$s2s" info --model run/model.safetensors
grep -q "encoder.rnn.weight_ih_l0" stdout.txt && grep -q "total" stdout.txt &&
  grep -q "epochs done 2" stdout.txt && pass "info: tensors, total and training state" ||
  fail "info output: $(cat stdout.txt)"

expect_ok "gen" "$s2s" gen --task pq --max-dashes 3 --size 4
[[ "$(grep -c $'\t' stdout.txt)" -eq 4 ]] && pass "gen: 4 TSV lines" || fail "gen: $(cat stdout.txt)"
expect_ok "devices" "$s2s" devices
grep -q "^cpu 0" stdout.txt && pass "devices: lists the CPU" || fail "devices: $(cat stdout.txt)"

# Exact resume: 1 epoch + resume + 1 epoch == 2 epochs, byte for byte.
"$s2s" train --task addition --digits 2 --reverse --size 600 --epochs 1 "${tiny[@]}" -q \
  --out run/half.safetensors &&
  "$s2s" train --resume run/half.safetensors --epochs 2 -q &&
  cmp -s run/half.safetensors run/model.safetensors &&
  pass "resume: 1 + 1 epochs give the same checkpoint bytes as 2" ||
  fail "resume: checkpoints differ"

# A pair file and the progression task (feature inputs) train too.
printf 'ab\tba\nabc\tcba\nba\tab\ncab\tbac\n' >tiny.tsv
expect_ok "train: pair file" "$s2s" train --data tiny.tsv --valid-split 0 --epochs 2 "${tiny[@]}" -q \
  --out run/pairs.safetensors
expect_ok "predict: pair-file model" "$s2s" predict --model run/pairs.safetensors abc
expect_ok "train: progression" "$s2s" train --task progression --epochs 1 --hidden 8 -q \
  --out run/progression.safetensors
expect_ok "predict: progression numbers" "$s2s" predict --model run/progression.safetensors \
  "1 3 9 27"

# ---- pq: natural and padded presentation, buckets, warm start, curriculum ---------------------
"$s2s" gen --task pq --max-dashes 4 --seed 3 >pq_natural.tsv 2>stderr.txt
"$s2s" gen --task pq --max-dashes 4 --seed 3 --presentation padded >pq_padded.tsv 2>>stderr.txt
if ! grep -q ' ' pq_natural.tsv && [[ "$(cut -f1 pq_padded.tsv | awk '{print length($0)}' | sort -u)" == 9 ]] &&
  [[ "$(tr -d ' ' <pq_padded.tsv)" == "$(cat pq_natural.tsv)" ]]; then
  pass "gen: pq natural by default, --presentation padded pads the same pairs to 2N+1"
else
  fail "gen pq forms: $(head -3 pq_natural.tsv pq_padded.tsv)"
fi
pq=(--task pq --max-dashes 6 --hidden 16 --samples 0 -q)
expect_ok "train: pq natural with step validations" "$s2s" train "${pq[@]}" --epochs 2 \
  --batch-size 4 --eval-every 2 --out run/pq6.safetensors --metrics run/pq6.jsonl
grep -q '"kind":"step"' run/pq6.jsonl && grep -q '"kind":"epoch"' run/pq6.jsonl &&
  grep -q '"elapsed"' run/pq6.jsonl && pass "metrics: step and epoch records" ||
  fail "metrics: $(cat run/pq6.jsonl)"
expect_ok "info: pq natural" "$s2s" info --model run/pq6.safetensors
grep -q '"presentation":"natural"' stdout.txt && grep -q '"bucket":true' stdout.txt &&
  pass "checkpoint: records presentation natural and buckets" || fail "info: $(cat stdout.txt)"
expect_ok "predict: a typed natural pq question" "$s2s" predict --model run/pq6.safetensors -- "--p---"
grep -qx '[q-]*' stdout.txt && pass "predict: pq answer is dashes and q" || fail "predict pq: $(cat stdout.txt)"
expect_ok "train: pq --padded" "$s2s" train "${pq[@]}" --padded --epochs 1 --out run/pq6p.safetensors
expect_ok "info: pq padded" "$s2s" info --model run/pq6p.safetensors
grep -q '"presentation":"padded"' stdout.txt && grep -q '"bucket":false' stdout.txt &&
  pass "checkpoint: records presentation padded, no buckets (equal lengths)" ||
  fail "info padded: $(cat stdout.txt)"
expect_ok "eval: padded model pads its questions" "$s2s" eval --model run/pq6p.safetensors --task pq --size 20
# Exact resume with length buckets: 1 epoch + resume + 1 epoch == 2 epochs, byte for byte.
"$s2s" train "${pq[@]}" --batch-size 4 --epochs 2 --out run/pqb2.safetensors &&
  "$s2s" train "${pq[@]}" --batch-size 4 --epochs 1 --out run/pqb1.safetensors &&
  "$s2s" train --resume run/pqb1.safetensors --epochs 2 -q &&
  cmp -s run/pqb1.safetensors run/pqb2.safetensors &&
  pass "resume with buckets: 1 + 1 epochs give the same checkpoint bytes as 2" ||
  fail "resume with buckets: checkpoints differ"
expect_ok "train: --init from a compatible checkpoint, longer sequences" \
  "$s2s" train --task pq --max-dashes 9 --samples 0 -q --epochs 1 --init run/pq6.safetensors \
  --out run/pq9.safetensors
expect_ok "info: warm-started model" "$s2s" info --model run/pq9.safetensors
grep -q '"init"' stdout.txt && pass "checkpoint: records the --init model" || fail "info init: $(cat stdout.txt)"
expect_ok "train: curriculum 5,8 one epoch a stage" "$s2s" train --task pq --curriculum 5,8 \
  --stage-epochs 1 --hidden 8 --samples 0 -q --out run/cur.safetensors --metrics run/cur.jsonl
grep -q '"stage":1,"stage_length":5' run/cur.jsonl && grep -q '"stage":2,"stage_length":8' run/cur.jsonl &&
  pass "curriculum: every record names its stage" || fail "curriculum metrics: $(cat run/cur.jsonl)"
expect_error "--init of another shape" "incompatible hidden_size: the checkpoint has 16, this run needs 32" \
  "$s2s" train --task pq --max-dashes 6 --hidden 32 --init run/pq6.safetensors --out out/m.safetensors \
  --metrics out/m.jsonl
expect_error "--init across presentations" "incompatible source_vocab" \
  "$s2s" train --task pq --max-dashes 6 --init run/pq6p.safetensors \
  --out out/m.safetensors --metrics out/m.jsonl
expect_error "--curriculum not increasing" "entry 2 (100) is not larger than the one before (300)" \
  "$s2s" train --task pq --curriculum 300,100 --out out/m.safetensors
expect_error "--curriculum empty entry" "entry 2 is empty" \
  "$s2s" train --task pq --curriculum 10,,30 --out out/m.safetensors
expect_error "--curriculum without a length knob" "digits-words has none" \
  "$s2s" train --task digits-words --curriculum 3,5 --out out/m.safetensors
expect_error "--curriculum with its knob" "--max-dashes cannot be used with --curriculum" \
  "$s2s" train --task pq --curriculum 3,5 --max-dashes 5 --out out/m.safetensors
expect_error "--stage-steps without --curriculum" "--stage-steps goes with --curriculum" \
  "$s2s" train --task pq --stage-steps 5 --out out/m.safetensors
expect_error "--padded for a task without padding" "copy has no padded form" \
  "$s2s" train --task copy --padded --out out/m.safetensors --metrics out/m.jsonl

# ---- bad input: one check each ----------------------------------------------------------------
printf 'ab\tba\nabc cba\n' >missing_tab.tsv
printf 'ab\tba\nabc\t\n' >empty_target.tsv
printf 'ab\tba\nb\xffa\tab\n' >bad_utf8.tsv
: >empty.tsv
train_file() { "$s2s" train --data "$1" --epochs 1 "${tiny[@]}" --out out/m.safetensors \
  --metrics out/m.jsonl; }
expect_error "pair file: missing tab" "missing_tab.tsv:2" train_file missing_tab.tsv
expect_error "pair file: empty target" "empty_target.tsv:2: the target" train_file empty_target.tsv
expect_error "pair file: invalid UTF-8" "bad_utf8.tsv:2: invalid UTF-8" train_file bad_utf8.tsv
expect_error "pair file: empty" "no input<TAB>target pairs" train_file empty.tsv
expect_error "pair file: does not exist" "cannot open" train_file no_such_file.tsv

model=run/model.safetensors
expect_error "predict: character outside the vocabulary" "character 'x' at position 3" \
  "$s2s" predict --model "$model" "12x4"
expect_error "predict: input too long" "allows at most 5" \
  "$s2s" predict --model "$model" "123+456"
head -c 500 "$model" >truncated.safetensors
expect_error "checkpoint: truncated" "truncated.safetensors" \
  "$s2s" predict --model truncated.safetensors "1+1"
echo "not a checkpoint" >text.safetensors
expect_error "checkpoint: not safetensors" "not a valid safetensors file" \
  "$s2s" info --model text.safetensors

if "$s2s" devices | grep -q "^cuda "; then
  echo "skip --device cuda without a GPU: s2s devices lists a usable GPU here"
else
  expect_error "--device cuda without a usable GPU" "CUDA" \
    "$s2s" train --task addition --digits 1 --epochs 1 --device cuda --out out/m.safetensors
fi

# --precision: tf32 is a permission for CUDA's GEMMs; on the CPU the predictions are the same.
if [[ "$("$s2s" predict --model "$model" --device cpu --precision tf32 "12+34")" == \
      "$("$s2s" predict --model "$model" --device cpu "12+34")" ]]; then
  pass "--precision tf32 on the cpu: the same predictions"
else
  fail "--precision tf32 on the cpu changed the predictions"
fi
expect_error "--precision fp16" "--precision" \
  "$s2s" predict --model "$model" --precision fp16 "1+1"

expect_error "--hidden 0" "--hidden" \
  "$s2s" train --task addition --hidden 0 --out out/m.safetensors
expect_error "--valid-split 1.5" "--valid-split is 1.5" \
  "$s2s" train --task addition --valid-split 1.5 --out out/m.safetensors
expect_error "--epochs -1" "--epochs" \
  "$s2s" train --task addition --epochs -1 --out out/m.safetensors
expect_error "--out into a missing folder" "does not exist" \
  "$s2s" train --task addition --digits 1 --epochs 1 --out out/missing/m.safetensors \
  --metrics out/m.jsonl
expect_error "--task and --data together" "exactly one of --task and --data" \
  "$s2s" train --task addition --data tiny.tsv --out out/m.safetensors
expect_error "unknown task" "--task" "$s2s" train --task nope --out out/m.safetensors
expect_error "resume with a model flag" "--hidden cannot be used with --resume" \
  "$s2s" train --resume "$model" --hidden 8 --out out/m.safetensors

printf '\n%d checks, %d failed\n' "$checks" "$failures"
[[ $failures -eq 0 ]]
