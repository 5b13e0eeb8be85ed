#!/usr/bin/env bash
# Builds s2s and runs everything a change must pass: the tests, an install into a staging
# prefix, a downstream CMake project built against that install (which trains a tiny model),
# the pkg-config file, a bounded fuzzing pass of every file reader, and the CPU tests under
# ASan+UBSan. CUDA is built when nvcc exists (on PATH or /usr/local/cuda/bin);
# GPU tests report skipped where no GPU is present.
#
# Environment: S2S_BUILD_DIR (default build), S2S_JOBS (default: all cores),
#              S2S_ENABLE_CUDA (ON/OFF; default: ON when nvcc exists),
#              S2S_CMAKE_ARGS (extra configure arguments, e.g. -DCMAKE_CUDA_ARCHITECTURES=90),
#              S2S_FUZZ_SECONDS (per fuzz target; default 30).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh

build="${S2S_BUILD_DIR:-build}"
jobs="${S2S_JOBS:-$(nproc)}"
case "$build" in /*) stage="$build/stage" ;; *) stage="$root/$build/stage" ;; esac

# CMakeLists.txt finds /usr/local/cuda/bin/nvcc itself when it is not on PATH.
cuda=OFF
if command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]]; then cuda=ON; fi
cuda="${S2S_ENABLE_CUDA:-$cuda}"

step() { printf '\n== %s\n' "$*"; }
seconds() { date +%s; }

t0=$(seconds)
step "configure ($build, Release, CUDA $cuda)"
# shellcheck disable=SC2086  # S2S_CMAKE_ARGS is a list of words on purpose
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DS2S_ENABLE_CUDA="$cuda" \
  ${S2S_CMAKE_ARGS:-}

step "build (-j$jobs)"
cmake --build "$build" -j "$jobs"
t1=$(seconds)

step "tests"
ctest --test-dir "$build" --output-on-failure -j "$jobs"
t2=$(seconds)

step "install into $stage"
rm -rf "$stage"
cmake --install "$build" --prefix "$stage"

step "downstream project against the install"
downstream="$build/downstream"
rm -rf "$downstream"
cmake -S examples/downstream -B "$downstream" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$stage"
cmake --build "$downstream" -j "$jobs"
"$downstream/s2s_downstream"

step "pkg-config"
pc="$(find "$stage" -name s2s.pc -print -quit)"
[[ -n "$pc" ]] || { echo "no s2s.pc under $stage" >&2; exit 1; }
pc_flags="$(PKG_CONFIG_PATH="$(dirname "$pc")" pkg-config --cflags --libs --static s2s)"
echo "pkg-config --cflags --libs --static s2s: $pc_flags"
[[ "$pc_flags" == *"$stage/"* ]] || { echo "s2s.pc does not point into $stage" >&2; exit 1; }
# Compile and link the downstream program with those flags alone.
# shellcheck disable=SC2086
g++ -std=c++17 -O1 -o "$downstream/s2s_downstream_pkgconfig" examples/downstream/main.cpp \
  $pc_flags
echo "linked $downstream/s2s_downstream_pkgconfig with pkg-config's flags"

t3=$(seconds)
# The readers of user files under libFuzzer with ASan+UBSan and an allocation cap: a short
# bounded pass of each target (scripts/fuzz.sh; longer runs by hand), failing on any finding.
fuzz_seconds="${S2S_FUZZ_SECONDS:-30}"
step "fuzzers: ${fuzz_seconds} s per target"
S2S_FUZZ_BUILD_DIR="$build-fuzz" S2S_JOBS="$jobs" bash scripts/fuzz.sh "$fuzz_seconds"
t4=$(seconds)
# The CPU tests built with ASan+UBSan (scripts/sanitize.sh says which tests it leaves out, why).
step "sanitizers: ASan+UBSan build of the CPU tests"
S2S_SANITIZE_BUILD_DIR="$build-sanitize" S2S_JOBS="$jobs" bash scripts/sanitize.sh
t5=$(seconds)
step "done: configure+build $((t1 - t0)) s, tests $((t2 - t1)) s, install+downstream $((t3 - t2)) s, fuzzers $((t4 - t3)) s, sanitizers $((t5 - t4)) s"
