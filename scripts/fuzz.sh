#!/usr/bin/env bash
# Fuzzes the file readers with libFuzzer under AddressSanitizer and UndefinedBehaviorSanitizer:
#   fuzz_checkpoint  bytes as a .safetensors checkpoint (framing, metadata, tensor checks)
#   fuzz_pairs       bytes as an input<TAB>target pair file
# Usage: scripts/fuzz.sh [SECONDS]   (per target; default 60)
# Builds with clang++-14 in $S2S_FUZZ_BUILD_DIR (default build-fuzz), installing clang-14 and
# the fuzzer runtime with apt-get when missing; seeds each corpus (real checkpoints written by
# write_sample_checkpoint, a few hand-made safetensors files, a few pair lines); runs each
# target; prints how many inputs ran and whether anything was found. Crashing inputs are kept
# in <build>/findings/. Exit status 1 when something was found.
set -euo pipefail

seconds="${1:-60}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
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
cmake --build "$build" -j "$jobs" --target fuzz_checkpoint fuzz_pairs write_sample_checkpoint \
  >/dev/null

# ---- Seed corpora (rewritten each run; what the fuzzer adds accumulates between runs).
corpus="$build/corpus"
findings="$build/findings"
mkdir -p "$corpus/checkpoint" "$corpus/pairs" "$findings"
for kind in adam sgd none features; do
  "$build/write_sample_checkpoint" "$corpus/checkpoint/seed-$kind.safetensors" "$kind"
done
# A safetensors file of one header and data: the 8-byte little-endian length first.
safetensors_seed() {
  local header="$1" data="$2" out="$3"
  python3 -c 'import struct, sys
h = sys.argv[1].encode(); d = sys.argv[2].encode()
sys.stdout.buffer.write(struct.pack("<Q", len(h)) + h + d)' "$header" "$data" >"$out"
}
safetensors_seed '{}' '' "$corpus/checkpoint/seed-empty"
safetensors_seed '{"__metadata__":{"format":"\"s2s-checkpoint-1\""},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' \
  'abcd' "$corpus/checkpoint/seed-one-tensor"
safetensors_seed '{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"BF16","shape":[1,1],"data_offsets":[2,4]}}' \
  'wxyz' "$corpus/checkpoint/seed-two-tensors"
printf '1\tone\n2\ttwo\n' >"$corpus/pairs/seed-digits"
printf 'Go.\tVa !\tCC-BY 2.0 (France)\r\nHi.\tSalut !\r\n\n' >"$corpus/pairs/seed-anki"
printf 'é€\t𝄞ß\n  \t \n' >"$corpus/pairs/seed-utf8"
printf 'no tab here\n' >"$corpus/pairs/seed-bad"

cat >"$build/checkpoint.dict" <<'EOF'
"{"
"}"
"["
"]"
":"
","
"\x22"
"null"
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
"config"
"source_vocab"
"target_vocab"
"optimizer"
"training"
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
EOF

# ---- Run each target for $seconds seconds.
found=0
run() {
  local target="$1" dict="$2" log="$build/$1.log" before after
  before=$(find "$findings" -name "$target-*" | wc -l)
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$findings/$target-")
  [[ -n "$dict" ]] && args+=(-dict="$dict")
  local status=0
  "$build/$target" "${args[@]}" "$corpus/${target#fuzz_}" >"$log" 2>&1 || status=$?
  after=$(find "$findings" -name "$target-*" | wc -l)
  local runs
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  if [[ $status -ne 0 || $after -gt $before ]]; then
    found=1
    echo "$target: FOUND a problem after ${runs:-?} inputs (exit $status); see $log and $findings"
    grep -m 5 -E 'ERROR|runtime error|deadly signal|Test unit written' "$log" || true
  else
    echo "$target: ${runs:-?} inputs in ${seconds} s, nothing found" \
         "(corpus: $(find "$corpus/${target#fuzz_}" -type f | wc -l) files)"
  fi
}
run fuzz_checkpoint "$build/checkpoint.dict"
run fuzz_pairs ""
exit $found
