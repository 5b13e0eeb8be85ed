#!/usr/bin/env bash
# Issue 12's findings tried as a user would, with the real s2s binary: each check is named
# "finding N: ..." and asserts the exit status (1-127), the message, and that nothing was
# written over or left behind. Hanging commands run under `timeout`, so a hang fails the check.
# Usage: test_hardening.sh PATH/TO/s2s   (ctest runs it as `cli_hardening`; ~20 s)
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/harness.sh" "${1:-}" test_hardening.sh

# expect_error NAME FRAGMENT COMMAND...: exit status 1..123 (not a timeout's 124, not a signal),
# stderr "s2s: error: ...FRAGMENT...", and no file left in out/ (every failing run writes there).
expect_error() {
  local name="$1" fragment="$2"
  shift 2
  rm -rf out && mkdir out
  timeout 20 "$@" >stdout.txt 2>stderr.txt
  local status=$?
  local message
  message="$(head -c 2000 stderr.txt)"
  if [[ $status -eq 0 || $status -ge 124 ]]; then
    fail "$name: exit status $status (expected 1-123): $message"
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
expect_ok() {
  local name="$1"
  shift
  if timeout 120 "$@" >stdout.txt 2>stderr.txt; then pass "$name"; else
    fail "$name: exit status $? - $(head -c 2000 stderr.txt)"; fi
}
# same_bytes NAME A B: the file is unchanged.
same_bytes() { cmp -s "$2" "$3" && pass "$1" || fail "$1: the file changed"; }

# A checkpoint's metadata edited by a Python expression on `m` (a dict of strings); tensors kept.
edit_metadata() {
  local from="$1" to="$2" code="$3"
  python3 - "$from" "$to" "$code" <<'PY'
import json, struct, sys
source, target, code = sys.argv[1:4]
raw = open(source, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
m = header["__metadata__"]
exec(code)
text = json.dumps(header).encode()
open(target, "wb").write(struct.pack("<Q", len(text)) + text + raw[8 + n:])
PY
}

tiny=(--hidden 8 --batch-size 16 --samples 0 -q)
mkdir -p run
"$s2s" train --task addition --digits 1 --size 50 --epochs 1 "${tiny[@]}" \
  --out run/model.safetensors || { echo "cannot train the model the checks use" >&2; exit 1; }
model=run/model.safetensors

# ---- finding 1: deeply nested JSON in the metadata ----------------------------------------------
edit_metadata "$model" deep_data.safetensors 'm["data"] = "[" * 200000'
expect_error "finding 1: info, 200,000 '[' in the data description" "nests arrays or objects more than 64" \
  "$s2s" info --model deep_data.safetensors
expect_error "finding 1: predict, 200,000 '[' in the data description" "'data' nests" \
  "$s2s" predict --model deep_data.safetensors "1+1"
edit_metadata "$model" deep_v1.safetensors \
  'm["format"] = "\"s2s-checkpoint-1\""; t = json.loads(m["training"]); t["data_json"] = "[" * 200000; m["training"] = json.dumps(t); m.pop("data", None)'
expect_error "finding 1: info, 200,000 '[' in a format-1 data_json string" "data_json" \
  "$s2s" info --model deep_v1.safetensors

# ---- finding 2: one file under two names ---------------------------------------------------------
"$s2s" gen --task addition --digits 1 --size 40 >d.tsv
cp d.tsv d.orig
ln -s d.tsv link.tsv
ln d.tsv hard.tsv
expect_error "finding 2: --out names the training data" "--data d.tsv and --out d.tsv name the same file" \
  "$s2s" train --data d.tsv --out d.tsv --epochs 1 "${tiny[@]}"
same_bytes "finding 2: the training data is intact" d.tsv d.orig
expect_error "finding 2: --out through ./" "name the same file" \
  "$s2s" train --data d.tsv --out ./d.tsv --epochs 1 "${tiny[@]}"
expect_error "finding 2: --data through a symlink" "name the same file" \
  "$s2s" train --data link.tsv --out d.tsv --epochs 1 "${tiny[@]}"
expect_error "finding 2: --data through a hard link" "name the same file" \
  "$s2s" train --data hard.tsv --out d.tsv --epochs 1 "${tiny[@]}"
cp d.tsv d2.tsv
expect_error "finding 2: --valid is --out" "--valid d.tsv and --out ./d.tsv name the same file" \
  "$s2s" train --data d2.tsv --valid d.tsv --out ./d.tsv --epochs 1 "${tiny[@]}"
same_bytes "finding 2: the training data is still intact" d.tsv d.orig
expect_error "finding 2: --out and --metrics name one new file" "--out out/m.st and --metrics ./out/m.st" \
  "$s2s" train --data d.tsv --out out/m.st --metrics ./out/m.st --epochs 1 "${tiny[@]}"
expect_error "finding 2: --metrics is --out's best copy" "best copy" \
  "$s2s" train --data d.tsv --out out/m.safetensors --metrics out/m.best.safetensors --epochs 1 "${tiny[@]}"
"$s2s" train --data d.tsv --epochs 1 "${tiny[@]}" --out run/resume.safetensors
expect_error "finding 2: --out names the data a resumed run reads" "name the same file" \
  "$s2s" train --resume run/resume.safetensors --out "$(pwd)/out/../d.tsv" --epochs 2 -q
same_bytes "finding 2: data intact after the resume attempt" d.tsv d.orig
# (--resume without --out continues in its own checkpoint, as intended; the cli test covers it.)

# ---- finding 3: crafted sizes -------------------------------------------------------------------
# Each run's peak resident size is measured too (python's getrusage of the child: works under
# the sanitizers, unlike an address-space cap): a runaway allocation fails the check.
peak_kb() { python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"; }
under_1gib() {
  local name="$1" kb
  shift
  kb="$(peak_kb "$@")"
  [[ "$kb" -lt 1048576 ]] && pass "$name: peak ${kb} KB" || fail "$name: peak ${kb} KB"
}
edit_metadata "$model" wide.safetensors \
  'd = json.loads(m["data"]); d["presentation"]["input_width"] = 2000000000; m["data"] = json.dumps(d)'
expect_error "finding 3: a crafted input_width" "presentation.input_width is 2000000000" \
  "$s2s" predict --model wide.safetensors "1+1"
under_1gib "finding 3: a crafted input_width" "$s2s" predict --model wide.safetensors "1+1"
edit_metadata "$model" long.safetensors \
  'c = json.loads(m["config"]); c["max_target_length"] = 1000000000; m["config"] = json.dumps(c)'
expect_error "finding 3: a crafted max_target_length" "max_target_length is 1000000000" \
  "$s2s" predict --model long.safetensors "1+1"
edit_metadata "$model" hidden.safetensors \
  'c = json.loads(m["config"]); c["hidden_size"] = 65536; m["config"] = json.dumps(c)'
expect_error "finding 3: a crafted hidden_size" "the config needs [262144," \
  "$s2s" predict --model hidden.safetensors "1+1"
# max_target_length at its limit in a small file: predict's batches shrink to fit its budget.
edit_metadata "$model" longest.safetensors \
  'c = json.loads(m["config"]); c["max_target_length"] = 65536; m["config"] = json.dumps(c)'
mapfile -t many < <(for i in $(seq 1 100); do echo "1+1"; done)
under_1gib "finding 3: 100 inputs to a model of max_target_length 65536" \
  "$s2s" predict --model longest.safetensors "${many[@]}"

# ---- finding 4: many header entries ----------------------------------------------------------------
# 65,536 entries (the limit) took minutes with the quadratic parse: expect_error's 20 s timeout
# turns a return of it into a failure (no timing otherwise).
python3 - <<'PY'
import json, struct
n = 65536
h = {"__metadata__": {"format": "\"s2s-checkpoint-2\""}}
for i in range(n):
    h[f"t{i}"] = {"dtype": "U8", "shape": [1], "data_offsets": [i, i + 1]}
b = json.dumps(h).encode()
open("many.safetensors", "wb").write(struct.pack("<Q", len(b)) + b + b"x" * n)
PY
expect_error "finding 4: 65,536 header entries" "no 'special_tokens'" "$s2s" info --model many.safetensors

# ---- finding 5: FIFOs, devices, folders ---------------------------------------------------------
mkfifo model.fifo
expect_error "finding 5: --model is a FIFO" "is a FIFO (named pipe)" "$s2s" info --model model.fifo
expect_error "finding 5: predict --model FIFO" "is a FIFO" "$s2s" predict --model model.fifo 1+1
expect_error "finding 5: --model /dev/zero" "is a character device" \
  "$s2s" eval --model /dev/zero --data d.tsv
expect_error "finding 5: --data /dev/zero" "pair file /dev/zero: is a character device" \
  "$s2s" train --data /dev/zero --out out/m.safetensors --epochs 1 "${tiny[@]}"
expect_error "finding 5: --data FIFO" "is a FIFO" \
  "$s2s" eval --model "$model" --data model.fifo
expect_error "finding 5: --model a folder" "is a folder" "$s2s" info --model run
expect_error "finding 5: /dev/zero on predict's stdin" "longer than 1048576 bytes" \
  sh -c "exec \"$s2s\" predict --model $model </dev/zero"

# ---- finding 6: failed writes ---------------------------------------------------------------------
if [[ -w /dev/full ]]; then
  expect_error "finding 6: gen > /dev/full" "writing to standard output failed: No space left" \
    sh -c "exec \"$s2s\" gen --task addition >/dev/full"
  expect_error "finding 6: predict > /dev/full" "writing to standard output failed" \
    sh -c "exec \"$s2s\" predict --model $model 1+1 2+2 >/dev/full"
  expect_error "finding 6: info > /dev/full" "writing to standard output failed" \
    sh -c "exec \"$s2s\" info --model $model >/dev/full"
  expect_error "finding 6: eval > /dev/full" "writing to standard output failed" \
    sh -c "exec \"$s2s\" eval --model $model --data d.tsv >/dev/full"
  expect_error "finding 6: train > /dev/full" "No space left on device" \
    sh -c "exec \"$s2s\" train --task addition --digits 1 --size 50 --epochs 1 --hidden 4 >/dev/full"
else
  echo "skip finding 6: no writable /dev/full here"
fi
# A closed pipe ends the tool as it ends any filter (SIGPIPE), without an error message.
"$s2s" gen --task addition --size 20000 2>pipe_err.txt | head -1 >/dev/null
[[ ! -s pipe_err.txt ]] && pass "finding 6: a closed pipe ends gen quietly" ||
  fail "finding 6: closed pipe: $(cat pipe_err.txt)"

# ---- finding 7: temporary files of killed saves --------------------------------------------------
mkdir -p kill
sh -c 'exit 0' &
dead=$!
wait "$dead"
head -c 300 "$model" >"kill/m.safetensors.tmp-$dead"  # what a save killed mid-write leaves
echo "mine" >"kill/notes.tmp-$dead"                       # a user's file with a similar name
expect_ok "finding 7: train after a killed save" \
  "$s2s" train --task addition --digits 1 --size 50 --epochs 1 "${tiny[@]}" --out kill/m.safetensors
[[ ! -e "kill/m.safetensors.tmp-$dead" ]] && pass "finding 7: the stale temporary is gone" ||
  fail "finding 7: stale temporary left: $(ls kill)"
[[ -e "kill/notes.tmp-$dead" ]] && pass "finding 7: a file that is not s2s's is kept" ||
  fail "finding 7: removed a user's file"
# kill -9 during training (saves every epoch): whatever is left loads, and the next save cleans up.
for delay in 0.3 0.6 0.9; do
  "$s2s" train --task addition --digits 2 --size 2000 --epochs 50 --hidden 32 --batch-size 8 -q \
    --out kill/k.safetensors >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
done
if [[ -e kill/k.safetensors ]]; then
  "$s2s" info --model kill/k.safetensors >/dev/null 2>&1 && pass "finding 7: the killed run's checkpoint loads" ||
    fail "finding 7: the killed run's checkpoint does not load"
fi
expect_ok "finding 7: a save after the kills" \
  "$s2s" train --task addition --digits 1 --size 50 --epochs 1 "${tiny[@]}" --out kill/k.safetensors
leftovers="$(ls kill | grep '\.tmp-' | grep -v "^notes")"
[[ -z "$leftovers" ]] && pass "finding 7: no temporary files after the kills" ||
  fail "finding 7: left: $leftovers"

# ---- finding 8: malformed metadata JSON ------------------------------------------------------------
edit_metadata "$model" badjson.safetensors 'm["config"] = "{\"cell\": lstm}"'
expect_error "finding 8: malformed config JSON" \
  "__metadata__ 'config' is not valid UTF-8 JSON, at byte 10" "$s2s" info --model badjson.safetensors
grep -q "expected a JSON object of the model config" stderr.txt && ! grep -q "json.exception" stderr.txt &&
  pass "finding 8: says what was expected, no parser internals" || fail "finding 8: $(cat stderr.txt)"

# ---- finding 9: real-valued round trip --------------------------------------------------------------
"$s2s" gen --task progression >p.tsv
[[ "$(head -1 p.tsv)" == "#s2s-numbers modulus=50" ]] && pass "finding 9: gen declares real-valued pairs" ||
  fail "finding 9: first line $(head -1 p.tsv)"
expect_ok "finding 9: train --data p.tsv" "$s2s" train --data p.tsv --epochs 1 --hidden 8 -q \
  --out run/p.safetensors
expect_ok "finding 9: eval --data p.tsv" "$s2s" eval --model run/p.safetensors --data p.tsv
grep -q "p.tsv (50 examples)" stdout.txt && pass "finding 9: eval read 50 pairs" ||
  fail "finding 9: eval: $(cat stdout.txt)"
expect_ok "finding 9: predict < p.tsv" sh -c "\"$s2s\" predict --model run/p.safetensors <p.tsv"
[[ "$(wc -l <stdout.txt)" -eq 50 ]] && pass "finding 9: one prediction per pair" ||
  fail "finding 9: predict printed $(wc -l <stdout.txt) lines"
expect_ok "finding 9: eval of the task model on gen's file" \
  "$s2s" train --task progression --epochs 1 --hidden 8 -q --out run/prog.safetensors
expect_ok "finding 9: eval --data p.tsv with the task model" \
  "$s2s" eval --model run/prog.safetensors --data p.tsv
expect_error "finding 9: a text model refuses real-valued pairs" "holds real-valued pairs" \
  "$s2s" eval --model "$model" --data p.tsv

# ---- finding 10: predict --raw ----------------------------------------------------------------------
expect_ok "finding 10: predict --raw of a progression model" \
  "$s2s" predict --raw --model run/prog.safetensors "1 3 9 27"
if LC_ALL=C grep -q $'\xee' stdout.txt; then
  fail "finding 10: private-use code points printed: $(od -c stdout.txt | head -2)"
elif grep -Eq '^([0-9]+|<pad>|<s>)( ([0-9]+|<pad>|<s>))*$|^$' stdout.txt; then
  pass "finding 10: numbers and readable special tokens ($(cat stdout.txt))"
else
  fail "finding 10: $(cat stdout.txt)"
fi
# (The escaping of '<' and '\' is tested on fixed token ids: Hardening.Finding10_... .)

printf '\n%d checks, %d failed\n' "$checks" "$failures"
[[ $failures -eq 0 ]]
