#!/usr/bin/env bash
# The experiment scripts refuse bad input with a message that says what was wrong, and a non-zero
# exit, before they train anything: the peers' pair files (bench/peers/addition_data.py,
# bench/peers/torch_pq.py), scripts/pq_errors.py, scripts/compare_peers.sh and
# scripts/compare_pq_peers.sh. Needs neither TensorFlow nor PyTorch: the
# data is read before either is imported.
# Usage: test_script_errors.sh PATH/TO/s2s     (ctest runs it as the `script_errors` test)
set -uo pipefail

s2s="${1:?usage: test_script_errors.sh PATH/TO/s2s}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/s2s_script_test.XXXXXX")"
trap 'rm -rf "$work"' EXIT

failures=0
# expect_failure NAME FRAGMENT COMMAND...: non-zero exit and FRAGMENT in stderr.
expect_failure() {
  local name="$1" fragment="$2"
  shift 2
  "$@" >"$work/stdout.txt" 2>"$work/stderr.txt"
  local status=$?
  local message
  message="$(cat "$work/stderr.txt")"
  if [[ $status -eq 0 ]]; then
    echo "FAIL $name: exit status 0"
    failures=$((failures + 1))
  elif [[ "$message" != *"$fragment"* ]]; then
    echo "FAIL $name: message lacks '$fragment': $message"
    failures=$((failures + 1))
  else
    echo "ok   $name (exit $status: $message)"
  fi
}

printf '12+3 \n' >"$work/no_tab.tsv"
: >"$work/empty.tsv"
for peer in torch_addition keras_addition; do
  expect_failure "$peer: a line without a tab" "no_tab.tsv:1: expected input<TAB>target" \
    python3 "$root/bench/peers/$peer.py" "$work/no_tab.tsv"
  expect_failure "$peer: an empty file" "empty.tsv: no pairs" \
    python3 "$root/bench/peers/$peer.py" "$work/empty.tsv"
  expect_failure "$peer: a missing file" "missing.tsv: cannot read pairs" \
    python3 "$root/bench/peers/$peer.py" "$work/missing.tsv"
done
expect_failure "pq_errors: a missing model" "missing.safetensors" \
  python3 "$root/scripts/pq_errors.py" "$work/missing.safetensors" --max-dashes 5 --s2s "$s2s"
expect_failure "pq_errors: no s2s binary" "give the binary with --s2s" \
  python3 "$root/scripts/pq_errors.py" "$work/missing.safetensors" --max-dashes 5 \
  --s2s "$work/no-s2s"
expect_failure "compare_peers: an unknown peer" "unknown peer 'bogus'" \
  env PEERS=bogus BUILD_DIR="$(dirname "$s2s")" bash "$root/scripts/compare_peers.sh" "$work/out"
expect_failure "compare_peers: an unknown device" "DEVICE must be cpu or cuda" \
  env DEVICE=gpu BUILD_DIR="$(dirname "$s2s")" bash "$root/scripts/compare_peers.sh" "$work/out"
[[ ! -e "$work/out" ]] || { echo "FAIL compare_peers: wrote $work/out before refusing"; failures=$((failures + 1)); }
expect_failure "torch_pq: a line without a tab" "no_tab.tsv:1: expected question<TAB>answer" \
  python3 "$root/bench/peers/torch_pq.py" learn "$work/no_tab.tsv"
expect_failure "torch_pq: an empty file" "empty.tsv: no pairs" \
  python3 "$root/bench/peers/torch_pq.py" learn "$work/empty.tsv"
expect_failure "torch_pq: a missing file" "missing.tsv: cannot read pairs" \
  python3 "$root/bench/peers/torch_pq.py" learn "$work/missing.tsv"
expect_failure "torch_pq: zero threads" "--threads must be 1 or more" \
  python3 "$root/bench/peers/torch_pq.py" speed --threads 0
expect_failure "compare_pq_peers: bad DASHES" "DASHES is 'many'" \
  env DASHES=many BUILD_DIR="$(dirname "$s2s")" bash "$root/scripts/compare_pq_peers.sh" "$work/out2"
expect_failure "compare_pq_peers: bad THREADS" "THREADS is '0'" \
  env THREADS=0 BUILD_DIR="$(dirname "$s2s")" bash "$root/scripts/compare_pq_peers.sh" "$work/out2"
[[ ! -e "$work/out2" ]] || { echo "FAIL compare_pq_peers: wrote $work/out2 before refusing"; failures=$((failures + 1)); }

echo "script errors: $failures failed"
[[ $failures -eq 0 ]]
