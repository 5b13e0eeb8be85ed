#!/usr/bin/env bash
# run.sh of a GPU bundle (written by scripts/gpu-bundle.sh, which copies this file): on a bare
# GPU machine with CUDA, CMake, ninja and PyTorch, configures s2s against the bundle's deps/,
# builds for sm_90, runs every gpu test (ctest -L gpu; zero tests is a failure), compute-sanitizer
# memcheck and racecheck on a subset, and PyTorch's (cuDNN) LSTM side by side with s2s's, then
# prints one table. Each stage has a time limit; the whole run stays within 7 minutes.
# Exit status 0 only when every stage passed; 2 when there is no usable GPU.
#
# Environment: S2S_BUNDLE_BUILD=<folder> (default ./build), S2S_CUDA_ARCHS (default 90),
# S2S_BUNDLE_SECONDS (default 420: every stage's limit is cut to what is left of it),
# S2S_BUNDLE_BUILD_SECONDS (default 180: the build stage's own limit; raise both to try the
# bundle on a slow machine without a GPU).
set -uo pipefail
deadline=$((SECONDS + ${S2S_BUNDLE_SECONDS:-420}))

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/s2s"
build="${S2S_BUNDLE_BUILD:-$here/build}"
archs="${S2S_CUDA_ARCHS:-90}"
logs="$build/bundle-logs"
mkdir -p "$logs"
jobs="$(nproc 2>/dev/null || echo 4)"

names=()
results=()
seconds=()
failures=0
# stage NAME LIMIT_SECONDS COMMAND...: runs it with its output in $logs/NAME.log (and on screen),
# records PASS/FAIL/TIMEOUT and its time.
stage() {
  local name="$1" limit="$2"
  shift 2
  local left=$((deadline - SECONDS))
  (( left < limit )) && limit=$left
  if (( limit <= 0 )); then
    names+=("$name")
    results+=("NOT RUN (time)")
    seconds+=(0)
    failures=$((failures + 1))
    return 1
  fi
  echo "== $name (limit ${limit}s): $*"
  local start=$SECONDS status
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$logs/$name.log"
  status=${PIPESTATUS[0]}
  names+=("$name")
  seconds+=($((SECONDS - start)))
  if [[ $status -eq 0 ]]; then
    results+=("pass")
  elif [[ $status -eq 124 || $status -eq 137 ]]; then
    results+=("TIMEOUT")
    failures=$((failures + 1))
  else
    results+=("FAIL ($status)")
    failures=$((failures + 1))
  fi
  return $status
}

table() {
  echo
  echo "== s2s GPU bundle: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1 || echo 'no GPU')"
  printf '| %-34s | %-12s | %7s |\n' stage result seconds
  printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..36})" "$(printf -- '-%.0s' {1..14})" "$(printf -- '-%.0s' {1..9})"
  for i in "${!names[@]}"; do
    printf '| %-34s | %-12s | %7s |\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}"
  done
  if [[ -f "$logs/ctest-gpu.log" ]]; then
    grep -E 'tests passed|tests failed' "$logs/ctest-gpu.log" | tail -n 1
  fi
  if [[ -f "$logs/pytorch-side-by-side.log" ]]; then
    sed -n '/^s2s LSTM layer vs/,$p' "$logs/pytorch-side-by-side.log"
  fi
}

# CUDA's tools where the image keeps them off PATH.
for dir in /usr/local/cuda/bin /usr/local/cuda/compute-sanitizer; do
  [[ -d "$dir" ]] && PATH="$PATH:$dir"
done
generator=(-G Ninja)
command -v ninja >/dev/null 2>&1 || generator=(-G "Unix Makefiles")

stage configure 60 cmake -S "$src" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DS2S_ENABLE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$archs" -DS2S_DEPS_DIR="$here/deps" ||
  { table; echo "BUNDLE FAILED: configure"; exit 1; }
# Only what the GPU run needs: the GPU tests and the GPU benchmark (the CPU suite runs in CI).
stage build "${S2S_BUNDLE_BUILD_SECONDS:-180}" cmake --build "$build" -j "$jobs" --target test_cuda_smoke test_cuda_parity \
  test_cuda_parity_attention bench_gpu_layers || { table; echo "BUNDLE FAILED: build"; exit 1; }

if ! nvidia-smi -L >/dev/null 2>&1; then
  names+=("gpu present")
  results+=("NO GPU")
  seconds+=(0)
  table
  echo "BUNDLE STOPPED: no usable NVIDIA GPU here (nvidia-smi -L failed); the build is ready in"
  echo "$build, nothing was run on a GPU"
  exit 2
fi

# Zero gpu tests is a failure (a label typo or a broken test list must not pass).
stage ctest-gpu 90 ctest --test-dir "$build" -L gpu --no-tests=error --output-on-failure \
  --timeout 120
# A skipped gpu test on a machine with a GPU means the build cannot use it.
if grep -q 'Skipped' "$logs/ctest-gpu.log" 2>/dev/null; then
  names+=("no gpu test skipped")
  results+=("FAIL")
  seconds+=(0)
  failures=$((failures + 1))
fi

sanitizer="$(command -v compute-sanitizer || true)"
if [[ -z "$sanitizer" ]]; then
  names+=("compute-sanitizer")
  results+=("FAIL (absent)")
  seconds+=(0)
  failures=$((failures + 1))
else
  # A subset that reaches every kernel family at small sizes: the RNN stack (pointwise steps,
  # final states, repeated input's column sums), the one-hot gather and its sorted scatter
  # (the embedding test), losses, norms and the optimizers. API errors provoked on purpose
  # (an allocation larger than the device) are not reported.
  subset='CudaParity.RnnBackToBack*:CudaParity.Embedding*:CudaParity.Linear*:CudaParity.SoftmaxCrossEntropyMatches*:CudaParity.Mse*:CudaParity.Argmax*:CudaParity.RepeatMatches*:CudaParity.GlobalNorm*:CudaParity.Adam*'
  stage memcheck 60 "$sanitizer" --tool memcheck --report-api-errors no --error-exitcode 99 \
    "$build/test_cuda_parity" --gtest_filter="$subset"
  stage racecheck 45 "$sanitizer" --tool racecheck --error-exitcode 99 \
    "$build/test_cuda_parity" \
    --gtest_filter='CudaParity.Embedding*:CudaParity.Linear*:CudaParity.SoftmaxCrossEntropyMatches*:CudaParity.GlobalNorm*:CudaParity.RnnBackToBack*'
  # The attention, layout and decoding kernels (issue 13): every op under memcheck (TF32 and the
  # repeat run add no kernel), and the ones with shared memory or warp shuffles under racecheck.
  stage memcheck-attention 60 "$sanitizer" --tool memcheck --report-api-errors no \
    --error-exitcode 99 "$build/test_cuda_parity_attention" \
    --gtest_filter='CudaAttentionParity.*:-*Tf32*:*Repeated*'
  stage racecheck-attention 30 "$sanitizer" --tool racecheck --error-exitcode 99 \
    "$build/test_cuda_parity_attention" \
    --gtest_filter='CudaAttentionParity.BeamCandidates*:CudaAttentionParity.MaskedSoftmax*:CudaAttentionParity.LogSoftmax*'
fi

stage pytorch-side-by-side 75 python3 "$src/bench/peers/torch_lstm.py" \
  "$build/bench_gpu_layers" --repeats 10 --warmup 3

table
if [[ $failures -ne 0 ]]; then
  echo "BUNDLE FAILED: $failures stage(s) failed (logs in $logs)"
  exit 1
fi
echo "BUNDLE PASSED"
