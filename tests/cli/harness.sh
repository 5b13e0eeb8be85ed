# Shared prologue of the tool's shell tests (test_cli.sh, test_hardening.sh, ...): the s2s binary
# as an absolute path, a temporary working folder removed at exit, the check counters, and the
# expect_error / expect_ok checks (a script may define its own instead).
# Usage, from a test script: source "$(dirname "${BASH_SOURCE[0]}")/harness.sh" "$1" NAME
s2s="${1:?usage: $2 PATH/TO/s2s}"
[[ -x "$s2s" ]] || { echo "$2: $s2s is not an executable" >&2; exit 1; }
s2s="$(cd "$(dirname "$s2s")" && pwd)/$(basename "$s2s")"  # the tests run in a temporary folder
work="$(mktemp -d "${TMPDIR:-/tmp}/s2s_${2%.sh}.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

failures=0
checks=0
pass() { checks=$((checks + 1)); printf 'ok   %s\n' "$1"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); printf 'FAIL %s\n' "$1"; }

# expect_error NAME FRAGMENT COMMAND...: non-zero exit, stderr "s2s: error: ...FRAGMENT...",
# and nothing left in out/.
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
expect_ok() {
  local name="$1"
  shift
  if "$@" >stdout.txt 2>stderr.txt; then
    pass "$name"
  else
    fail "$name: exit status $? - $(cat stderr.txt)"
  fi
}
