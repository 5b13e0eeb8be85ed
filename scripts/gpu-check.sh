#!/usr/bin/env bash
# GPU check: runs the tests labelled `gpu` (ctest -L gpu), then compute-sanitizer's memcheck
# over each GPU test executable where compute-sanitizer is installed, and prints a summary.
# Exit status 0 only when no test failed and memcheck found nothing. On a machine without a GPU
# the GPU tests report skipped (and memcheck is not run: nothing would be checked).
# Then, on a GPU, it runs the GPU benchmarks (build/bench_gpu_layers) and the PyTorch comparison
# (bench/peers/torch_lstm.py; PyTorch optional), then trains seed 001's addition model with
# PyTorch and with s2s on the GPU (scripts/compare_peers.sh DEVICE=cuda) and prints their tables
# with the summary, last.
# Their times do not decide the exit status; a benchmark binary that fails does.
# S2S_MEMCHECK_GTEST_FILTER=<filter> limits the tests memcheck runs (default: all);
# S2S_GPU_CHECK_BENCH=0 skips the benchmarks.
#
# Usage: bash scripts/gpu-check.sh            (uses build/, configures and builds it if absent)
#        S2S_BUILD_DIR=build-gpu bash scripts/gpu-check.sh
#        S2S_GPU_CHECK_BUILD=1 ...            (rebuild an existing build folder first)
#
# A GPU machine without the Debian dev packages (gtest, benchmark, OpenBLAS, fmt, CLI11,
# nlohmann-json) and without network: write a bundle here with scripts/gpu-bundle.sh DIR, carry
# DIR there and run DIR/run.sh (it configures with -DS2S_DEPS_DIR=DIR/deps). This script also
# takes S2S_DEPS_DIR=<deps folder> for its own configure.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="${S2S_BUILD_DIR:-build}"

if [[ ! -f "$build/CTestTestfile.cmake" ]]; then
  echo "== configure and build $build (it has no tests yet)"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    ${S2S_DEPS_DIR:+-DS2S_DEPS_DIR="$S2S_DEPS_DIR"} || exit 1
  cmake --build "$build" -j "$(nproc)" || exit 1
elif [[ "${S2S_GPU_CHECK_BUILD:-0}" == 1 ]]; then
  cmake --build "$build" -j "$(nproc)" || exit 1
fi

if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,memory.total,compute_cap,driver_version --format=csv \
    2>/dev/null || true
else
  echo "(no nvidia-smi: probably no NVIDIA driver here; the GPU tests will report skipped)"
fi

echo "== ctest -L gpu"
ctest_log="$(mktemp)"
trap 'rm -f "$ctest_log"' EXIT
# --no-tests=error: zero gpu tests (a label typo, a broken test list) fails the check.
ctest --test-dir "$build" -L gpu --no-tests=error --output-on-failure 2>&1 | tee "$ctest_log"
ctest_status=${PIPESTATUS[0]}
skipped=$(grep -c 'Not Run (Skipped)\|\*\*\*Skipped' "$ctest_log" || true)
summary_line=$(grep -E 'tests passed, [0-9]+ tests failed' "$ctest_log" | tail -n 1)

# The GPU test executables, from ctest's own list (so the label is the only source of truth).
mapfile -t executables < <(ctest --test-dir "$build" -L gpu --show-only=json-v1 2>/dev/null |
  python3 -c '
import json, sys
seen = []
for test in json.load(sys.stdin).get("tests", []):
    command = test.get("command") or []
    if command and command[0] not in seen:
        seen.append(command[0])
print("\n".join(seen))')

sanitizer=""
for candidate in "$(command -v compute-sanitizer 2>/dev/null || true)" \
                 /usr/local/cuda/bin/compute-sanitizer \
                 /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  if [[ -n "$candidate" && -x "$candidate" ]]; then sanitizer="$candidate"; break; fi
done

gpu_present=0
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then gpu_present=1; fi

memcheck_failures=0
memcheck_report=()
if [[ -z "$sanitizer" ]]; then
  memcheck_report+=("memcheck: not run (compute-sanitizer is not installed)")
elif [[ $gpu_present -eq 0 ]]; then
  memcheck_report+=("memcheck: not run (no GPU)")
else
  for exe in "${executables[@]}"; do
    [[ -n "$exe" ]] || continue
    echo "== compute-sanitizer --tool memcheck $exe"
    # API errors are not reported: the tests provoke some on purpose (an allocation larger than
    # the device) and s2s checks every call itself; memcheck looks for bad memory accesses.
    if "$sanitizer" --tool memcheck --leak-check full --report-api-errors no \
         --error-exitcode 99 "$exe" --gtest_filter="${S2S_MEMCHECK_GTEST_FILTER:-*}"; then
      memcheck_report+=("memcheck: $(basename "$exe"): clean")
    else
      memcheck_report+=("memcheck: $(basename "$exe"): ERRORS (see above)")
      memcheck_failures=$((memcheck_failures + 1))
    fi
  done
fi

# GPU benchmarks, then the PyTorch comparison (which runs the benchmark binary's LSTM cases).
bench_exe="$build/bench_gpu_layers"
bench_failures=0
bench_report=()
peer_log="$(mktemp)"
compare_log="$(mktemp)"
trap 'rm -f "$ctest_log" "$peer_log" "$compare_log"' EXIT
if [[ $gpu_present -eq 0 ]]; then
  bench_report+=("benchmarks: not run (no GPU)")
elif [[ "${S2S_GPU_CHECK_BENCH:-1}" == 0 ]]; then
  bench_report+=("benchmarks: not run (S2S_GPU_CHECK_BENCH=0)")
elif [[ ! -x "$bench_exe" ]]; then
  bench_report+=("benchmarks: not run ($bench_exe not built: needs CUDA, S2S_BUILD_BENCHMARKS)")
else
  echo "== $bench_exe"
  if "$bench_exe"; then
    bench_report+=("benchmarks: $(basename "$bench_exe"): ran (times above)")
  else
    bench_report+=("benchmarks: $(basename "$bench_exe"): FAILED (see above)")
    bench_failures=$((bench_failures + 1))
  fi
  echo "== python3 bench/peers/torch_lstm.py $bench_exe"
  if python3 bench/peers/torch_lstm.py "$bench_exe" 2>&1 | tee "$peer_log"; then
    bench_report+=("peer comparison: bench/peers/torch_lstm.py: ran (table below)")
  else
    bench_report+=("peer comparison: bench/peers/torch_lstm.py: FAILED (see above)")
    bench_failures=$((bench_failures + 1))
  fi
  # Seed 001's whole addition model trained for 5 epochs by PyTorch (cuDNN) and by s2s on the
  # GPU, same data (issue 5's GPU side by side).
  echo "== scripts/compare_peers.sh with DEVICE=cuda PEERS=torch"
  if [[ -x "$build/s2s" ]] &&
    DEVICE=cuda PEERS=torch BUILD_DIR="$build" scripts/compare_peers.sh "$build/compare-peers-cuda" \
      2>&1 | tee "$compare_log"; then
    bench_report+=("training side by side: scripts/compare_peers.sh DEVICE=cuda: ran (table below)")
  else
    bench_report+=("training side by side: scripts/compare_peers.sh DEVICE=cuda: FAILED or no $build/s2s")
    bench_failures=$((bench_failures + 1))
  fi
fi

echo
echo "== GPU check summary"
echo "gpu tests: ${summary_line:-no result} (${skipped} skipped); ctest exit status $ctest_status"
echo "executables: ${executables[*]:-none}"
printf '%s\n' "${memcheck_report[@]}"
printf '%s\n' "${bench_report[@]}"
sed -n '/^s2s LSTM layer vs/,$p' "$peer_log"
sed -n '/^epoch | /,$p' "$compare_log"
if [[ $ctest_status -ne 0 || $memcheck_failures -ne 0 || $bench_failures -ne 0 ]]; then
  echo "GPU CHECK FAILED"
  exit 1
fi
if [[ $gpu_present -eq 0 ]]; then
  echo "GPU check: nothing ran on a GPU (none here); the gpu tests skipped as they must"
  exit 0
fi
if [[ $skipped -ne 0 ]]; then
  # A GPU is here, so a skip means the build cannot use it (built without CUDA, no driver...).
  echo "GPU CHECK FAILED: a GPU is present but $skipped gpu tests skipped (see their reasons)"
  exit 1
fi
echo "GPU check passed"
