#!/usr/bin/env bash
# Builds the CPU library, the tool and the tests with AddressSanitizer and
# UndefinedBehaviorSanitizer (CUDA off, its own build folder) and runs ctest: any sanitizer report
# fails the test that triggered it (halt_on_error), leaks included.
# Usage: scripts/sanitize.sh        Environment: S2S_SANITIZE_BUILD_DIR (default build-sanitize),
#                                   S2S_JOBS (default: all cores).
# Every CPU test runs, the learning tests included (measured on 2 cores: a clean build 6 min,
# the tests 77 s, the slowest Learning.TwoDigitAdditionInRepeatMode 74 s). GPU tests skip (no
# CUDA in this build).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${S2S_SANITIZE_BUILD_DIR:-$root/build-sanitize}"
jobs="${S2S_JOBS:-$(nproc)}"
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

start=$(date +%s)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DS2S_ENABLE_CUDA=OFF \
  -DS2S_BUILD_BENCHMARKS=OFF -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" -j "$jobs"
built=$(date +%s)

# allocator_may_return_null: a test asks for an absurd size on purpose and expects the
# library's s2s::Error (std::bad_alloc underneath), not an ASan abort.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir "$build" --output-on-failure -j "$jobs" -LE mpi
# The mpirun tests run with ASan and UBSan too, but without leak detection: Open MPI's runtime
# keeps allocations of its own (its op tables, dlopened components) past MPI_Finalize, which
# LeakSanitizer reports at exit in every process; s2s's own code is leak-checked by the single-
# process tests above, data parallelism included (tests/test_data_parallel.cpp runs ranks as
# threads).
if ctest --test-dir "$build" -N -L mpi | grep -q "Total Tests: [1-9]"; then
  ASAN_OPTIONS="${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0}" \
    ctest --test-dir "$build" --output-on-failure -j "$jobs" -L mpi
fi
done_at=$(date +%s)
echo "sanitize.sh: build $((built - start)) s, tests $((done_at - built)) s"
