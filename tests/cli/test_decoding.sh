#!/usr/bin/env bash
# predict's decoders through the tool: beam search (beam 1 = greedy, n-best lines and their
# order, long answers), sampling (reproducible for a seed, top-k 1 = greedy), --attention-map
# with and without attention, eval --beam-size, and each bad decoding flag as an error that
# leaves nothing behind.
# Usage: test_decoding.sh PATH/TO/s2s     (ctest runs it as `cli_decoding`; three small models,
# ~15 s)
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/harness.sh" "${1:-}" test_decoding.sh

# expect_error NAME FRAGMENT COMMAND...: non-zero exit, stderr "s2s: error: ...FRAGMENT...",
# nothing on stdout and nothing left in out/.
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
  elif [[ "$message" != "s2s: error: "* || "$message" != *"$fragment"* ]]; then
    fail "$name: message lacks 's2s: error: ...$fragment': $message"
  elif [[ -s stdout.txt || -n "$(ls -A out)" ]]; then
    fail "$name: printed or left something: $(cat stdout.txt) $(ls -A out | tr '\n' ' ')"
  else
    pass "$name (exit $status: ${message#s2s: error: })"
  fi
}

mkdir -p run
"$s2s" train --task addition --digits 2 --reverse --size 2000 --epochs 15 --hidden 32 \
  --batch-size 32 --samples 0 --out run/m.safetensors >/dev/null 2>train.txt ||
  { fail "train: $(cat train.txt)"; exit 1; }
model=run/m.safetensors
inputs=(12+34 5+5 77+88 1+90 40+4)

greedy="$("$s2s" predict --model "$model" "${inputs[@]}")"
[[ "$("$s2s" predict --model "$model" --beam-size 1 "${inputs[@]}")" == "$greedy" ]] &&
  pass "--beam-size 1 prints the greedy outputs" || fail "--beam-size 1 differs from greedy"
[[ "$("$s2s" predict --model "$model" --top-k 1 --temperature 2 "${inputs[@]}")" == "$greedy" ]] &&
  pass "--top-k 1 samples the greedy outputs" || fail "--top-k 1 differs from greedy"

"$s2s" predict --model "$model" --beam-size 4 "${inputs[@]}" >beam.txt 2>stderr.txt
[[ "$(wc -l <beam.txt)" -eq 5 ]] && pass "--beam-size 4: one line per input" ||
  fail "--beam-size 4: $(cat beam.txt stderr.txt)"

# --n-best 3: three lines per input, numbered, scores descending within each input, and the
# first of each equal to the --beam-size output.
"$s2s" predict --model "$model" --beam-size 4 --n-best 3 "${inputs[@]}" >nbest.txt 2>stderr.txt
check_nbest='
import sys
lines = [l.rstrip("\n").split("\t") for l in open("nbest.txt")]
best = [l.rstrip("\n") for l in open("beam.txt")]
assert len(lines) == 15, f"{len(lines)} lines"
for i in range(5):
    group = lines[3 * i: 3 * i + 3]
    assert all(len(l) == 3 and int(l[0]) == i + 1 for l in group), group
    scores = [float(l[1]) for l in group]
    assert all(s <= 0 for s in scores) and scores == sorted(scores, reverse=True), scores
    assert len({l[2] for l in group}) == 3, group
    assert group[0][2] == best[i], (group[0], best[i])
'
if python3 -c "$check_nbest"
then pass "--n-best 3: 3 numbered lines per input, best first, the first is the beam's"
else fail "--n-best 3: $(cat nbest.txt stderr.txt)"; fi
"$s2s" predict --model "$model" --n-best 1 12+34 >one.txt 2>stderr.txt &&
  grep -qP '^1\t-[0-9.]+\t' one.txt && pass "--n-best 1: the greedy output with its score" ||
  fail "--n-best 1: $(cat one.txt stderr.txt)"

s1="$("$s2s" predict --model "$model" --temperature 1.5 --seed 7 "${inputs[@]}")"
s2="$("$s2s" predict --model "$model" --temperature 1.5 --seed 7 --batch-size 2 "${inputs[@]}")"
[[ "$s1" == "$s2" ]] && pass "sampling: the same seed gives the same samples, whatever the batch" ||
  fail "sampling: seed 7 gave '$s1' then '$s2'"
differ=0
for seed in 1 2 3 4 5 6; do
  [[ "$("$s2s" predict --model "$model" --temperature 3 --seed $seed "${inputs[@]}")" != "$s1" ]] &&
    differ=1
done
[[ $differ -eq 1 ]] && pass "sampling: other seeds give other samples" ||
  fail "sampling: six seeds at temperature 3 all gave '$s1'"

"$s2s" eval --model "$model" --task addition --size 100 --beam-size 3 >eval.txt 2>stderr.txt &&
  grep -q "^beam exact match .*(.*/100, beam size 3, length penalty 1)" eval.txt &&
  pass "eval --beam-size 3: beam search's exact match beside greedy's" ||
  fail "eval --beam-size 3: $(cat eval.txt stderr.txt)"
expect_error "eval --beam-size 0" "beam size is 0" \
  "$s2s" eval --model "$model" --task addition --size 10 --beam-size 0

expect_error "--beam-size 0" "beam size is 0" "$s2s" predict --model "$model" --beam-size 0 1+1
expect_error "--beam-size 5000" "allowed: 1 to 512" \
  "$s2s" predict --model "$model" --beam-size 5000 1+1
expect_error "--n-best above the beam" "n-best is 3 with beam size 2" \
  "$s2s" predict --model "$model" --beam-size 2 --n-best 3 1+1
expect_error "--length-penalty -1" "length penalty is -1" \
  "$s2s" predict --model "$model" --beam-size 2 --length-penalty -1 1+1
expect_error "--temperature 0" "temperature is 0" "$s2s" predict --model "$model" --temperature 0 1+1
expect_error "--temperature nan" "temperature is nan" \
  "$s2s" predict --model "$model" --temperature nan 1+1
expect_error "--top-k -2" "top-k is -2" "$s2s" predict --model "$model" --top-k -2 1+1
expect_error "--seed without sampling" "--seed seeds sampling" \
  "$s2s" predict --model "$model" --seed 3 1+1
expect_error "sampling with a beam" "cannot be combined with --beam-size" \
  "$s2s" predict --model "$model" --temperature 0.5 --beam-size 3 1+1
expect_error "--attention-map without attention" "this model has no attention" \
  "$s2s" predict --model "$model" --attention-map out/map.png 1+1

# A model with attention (input feeding, bidirectional encoder): beam 1 is greedy, and
# --attention-map writes one PNG per input and the weights, each step's a distribution over the
# input's characters.
"$s2s" train --task reverse --digits 6 --size 600 --epochs 2 --hidden 16 --attention general \
  --input-feed --bidirectional --samples 0 --out run/a.safetensors >/dev/null 2>train.txt ||
  { fail "train with attention: $(cat train.txt)"; exit 1; }
attention_greedy="$("$s2s" predict --model run/a.safetensors 123 45678)"
[[ "$("$s2s" predict --model run/a.safetensors --beam-size 1 123 45678)" == "$attention_greedy" ]] &&
  pass "attention: beam 1 prints greedy output" || fail "attention: beam 1 differs from greedy"
rm -rf maps && mkdir maps
if "$s2s" predict --model run/a.safetensors --attention-map maps/m 123 45678 >maps.txt 2>&1 &&
  [[ -s maps/m-1.png && -s maps/m-2.png && -s maps/m.json ]] &&
  python3 - maps/m.json <<'CHECK'
import json, sys
examples = json.load(open(sys.argv[1]))["examples"]
assert [len(e["source"]) for e in examples] == [3, 5], examples
for e in examples:
    assert len(e["weights"]) == len(e["output"]), e
    for row in e["weights"]:
        assert len(row) == len(e["source"]) and abs(sum(row) - 1) < 1e-4, row
CHECK
then
  pass "attention: --attention-map writes a PNG per input and the weights"
else
  fail "attention: --attention-map: $(cat maps.txt) $(ls maps)"
fi

# Long outputs (pq up to 40 dashes: answers of up to 81 characters): beam search must not stop
# an input at K finished hypotheses, which let early-ended poor ones win (beam 5 then matched
# 0.5% of what greedy matched 70% of); it now stops when a step's best candidate ends.
"$s2s" train --task pq --max-dashes 40 --epochs 30 --hidden 64 --samples 0 --quiet \
  --out run/pq.safetensors 2>train.txt || { fail "train pq: $(cat train.txt)"; exit 1; }
"$s2s" gen --task pq --max-dashes 40 --seed 9 --size 200 >pq-test.tsv
"$s2s" eval --model run/pq.safetensors --data pq-test.tsv --beam-size 5 >pq-eval.txt 2>&1
if python3 - pq-eval.txt <<'CHECK'
import re, sys
text = open(sys.argv[1]).read()
greedy = float(re.search(r"^exact match +([0-9.]+)", text, re.M).group(1))
beam = float(re.search(r"^beam exact match +([0-9.]+)", text, re.M).group(1))
# Measured: greedy 0.42-0.71, beam 0.35-0.61 (the stopping bug gave 0.005 where greedy gave 0.705).
sys.exit(0 if greedy >= 0.2 and beam >= 0.5 * greedy else 1)
CHECK
then pass "beam 5 on 81-character answers keeps up with greedy: $(grep -E '^(beam )?exact match' pq-eval.txt | tr -s ' ' | tr '\n' ' ')"
else fail "beam 5 on long answers: $(cat pq-eval.txt)"; fi

printf '\n%d checks, %d failed\n' "$checks" "$failures"
[[ $failures -eq 0 ]]
