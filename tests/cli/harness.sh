# Shared prologue of the tool's shell tests (test_cli.sh, test_hardening.sh): the s2s binary
# as an absolute path, a temporary working folder removed at exit, and the check counters.
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
