#!/usr/bin/env bash
# Fuzzes the readers of files a user hands s2s, with libFuzzer under AddressSanitizer and
# UndefinedBehaviorSanitizer (clang 14):
#   fuzz_safetensors   bytes as a .safetensors file: the framing checks alone
#   fuzz_checkpoint    bytes as a checkpoint: framing, metadata, tensors, save/load round trip,
#                      and the tool's readers of the data description (info, predict, eval)
#   fuzz_pairs         bytes as an input<TAB>target pair file
#   fuzz_number_pairs  bytes as a real-valued pair file (#s2s-numbers modulus=M)
#   fuzz_vocab         bytes as vocabulary symbols and text (encode/decode round trip)
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (SECONDS per target, default 60; all targets
#        unless named). S2S_FUZZ_RUNS=N runs N inputs per target instead of a time bound.
# Every run has an allocation cap: one malloc above 256 MB or a resident size above 1 GB is a
# finding (no input of a few KB may allocate that), as are leaks and any sanitizer report.
# Builds with clang++-14 in $S2S_FUZZ_BUILD_DIR (default build-fuzz), installing clang-14 and the
# fuzzer runtime with apt-get when missing. Seeds come from tests/fuzz/corpus/<name>/ (in the
# repository); what the fuzzer adds goes to <build>/corpus/ and accumulates between runs.
# Prints the inputs run per target; crashing inputs are kept in <build>/findings/.
# Exit status 1 when anything was found.
set -euo pipefail

seconds="${1:-60}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2; }
shift || true
all_targets=(fuzz_safetensors fuzz_checkpoint fuzz_pairs fuzz_number_pairs fuzz_vocab)
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] ||
    { echo "fuzz.sh: unknown target '$t' (allowed: ${all_targets[*]})" >&2; exit 2; }
done
runs="${S2S_FUZZ_RUNS:-}"
[[ -z "$runs" || "$runs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: S2S_FUZZ_RUNS must be a number" >&2; exit 2; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${S2S_FUZZ_BUILD_DIR:-$root/build-fuzz}"
jobs="${S2S_JOBS:-2}"
cxx=clang++-14
sanitizers="-fsanitize=address,undefined -fno-sanitize-recover=undefined"

# ---- Toolchain: clang 14 and its libFuzzer runtime (Debian: clang-14, libclang-rt-14-dev).
fuzzer_links() {
  local probe
  probe="$(mktemp -d)"
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
    >"$probe/probe.cpp"
  "$cxx" -fsanitize=fuzzer $sanitizers "$probe/probe.cpp" -o "$probe/probe" >/dev/null 2>&1
  local status=$?
  rm -rf "$probe"
  return $status
}
if ! command -v "$cxx" >/dev/null 2>&1 || ! fuzzer_links; then
  echo "fuzz.sh: installing clang-14 and libclang-rt-14-dev"
  as_root=()
  [[ "$(id -u)" -ne 0 ]] && as_root=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends clang-14 libclang-rt-14-dev \
    >/dev/null
  fuzzer_links || { echo "fuzz.sh: $cxx cannot link a libFuzzer target" >&2; exit 1; }
fi

# ---- Build: the library with the sanitizers (and fuzzer coverage), then the targets.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$sanitizers -fsanitize=fuzzer-no-link" \
  -DS2S_ENABLE_CUDA=OFF -DS2S_BUILD_TESTS=OFF -DS2S_BUILD_BENCHMARKS=OFF \
  -DS2S_BUILD_FUZZERS=ON >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]}" >/dev/null

# ---- Corpora: the repository's seeds, plus what earlier runs found interesting.
findings="$build/findings"
mkdir -p "$findings"
cat >"$build/checkpoint.dict" <<'DICT'
"{"
"}"
"["
"]"
":"
","
"\x22"
"null"
"true"
"__metadata__"
"dtype"
"shape"
"data_offsets"
"F32"
"F64"
"BF16"
"U8"
"I64"
"format"
"s2s-checkpoint-1"
"s2s-checkpoint-2"
"special_tokens"
"config"
"source_vocab"
"target_vocab"
"optimizer"
"training"
"data"
"data_json"
"presentation"
"input_width"
"max_source_length"
"max_target_length"
"modulus"
"numbers"
"optimizer.m."
"optimizer.velocity."
"hidden_size"
"layers"
"lstm"
"gru"
"repeat"
"embedding"
"one_hot"
"features"
"best_valid_loss"
"\x00\x00\x00\x00\x00\x00\x00"
DICT
printf '"#s2s-numbers modulus="\n"\\x09"\n"\\x0a"\n" "\n"49"\n"0"\n' >"$build/number_pairs.dict"

# ---- Run each target; the allocation cap and leak detection are findings too.
found=0
total_report=""
run() {
  local target="$1" name="${1#fuzz_}" log="$build/$1.log" before after
  local corpus="$build/corpus/$name"
  mkdir -p "$corpus"
  before=$(find "$findings" -name "$target-*" | wc -l)
  local args=(-timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=256 -detect_leaks=1
              -print_final_stats=1 -artifact_prefix="$findings/$target-")
  if [[ -n "$runs" ]]; then args+=(-runs="$runs"); else args+=(-max_total_time="$seconds"); fi
  case "$name" in
    safetensors|checkpoint) args+=(-dict="$build/checkpoint.dict") ;;
    number_pairs) args+=(-dict="$build/number_pairs.dict") ;;
  esac
  local status=0 start end
  start=$(date +%s)
  "$build/$target" "${args[@]}" "$corpus" "$root/tests/fuzz/corpus/$name" >"$log" 2>&1 || status=$?
  end=$(date +%s)
  after=$(find "$findings" -name "$target-*" | wc -l)
  local executed
  executed=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  if [[ $status -ne 0 || $after -gt $before ]]; then
    found=1
    echo "$target: FOUND a problem after ${executed:-?} inputs (exit $status); see $log and $findings"
    grep -m 5 -E 'ERROR|runtime error|deadly signal|malloc\(|Test unit written' "$log" || true
  else
    echo "$target: ${executed:-?} inputs in $((end - start)) s, nothing found" \
         "(corpus: $(find "$corpus" -type f | wc -l) files)"
  fi
}
for t in "${targets[@]}"; do run "$t"; done
exit $found
