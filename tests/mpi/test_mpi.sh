#!/usr/bin/env bash
# Data-parallel `s2s train` under mpirun, one case per ctest test (CMakeLists.txt):
#   equal_np2       2 ranks train the model 1 process trains (same global batch), within kAtol
#   equal_np3       3 ranks: uneven shares, and a last batch smaller than the ranks (empty shard)
#   resume          a run resumed under 2 ranks equals the 1-process run straight through
#   rank0_writes    each rank runs in its own folder: rank 1's stays empty, rank 0's has the files
#   mismatch        ranks started with different data are refused, the message names the rank
#   failing_rank    a rank whose data file is bad ends the job: non-zero, message names the rank
#   killed_rank     a rank killed mid-run ends the job (non-zero) instead of a hang
#   too_many_ranks  more ranks than --batch-size is refused
#   other_commands  commands other than train are refused under mpirun (they are not parallel)
#   nccl_np2        (gpu) 2 ranks on 2 GPUs through NCCL equal 1 process on one GPU, within
#                   kGpuAtol; exit status 77 (skipped) with fewer than 2 GPUs
# usage: test_mpi.sh CASE S2S_BINARY MPIEXEC COMPARE_SCRIPT
set -euo pipefail

case_name="$1"
s2s="$2"
mpiexec="$3"
compare="$4"
# Float summation order is all that may differ; measured 6e-8..9e-8 on x86-64 (docs/SCALING.md).
kAtol=1e-5
# On GPUs the reductions inside the kernels (cuBLAS, column sums) also change order.
kGpuAtol=1e-4
# Every mpirun here must end by then: a hang is a failure, not a stuck CI job.
kTimeout=60

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }
# mpirun as CI runs it (root, 2 cores): Open MPI refuses root without these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1  # one BLAS thread per rank: ranks share the cores
# Shared memory without cross-process reads (CMA), which containers without ptrace refuse.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
mpi() {
  local n="$1"
  shift
  timeout "$kTimeout" "$mpiexec" --oversubscribe -np "$n" "$@"
}

# Variable-length targets (reverse), so shards hold different token counts and the gradient
# weighting by tokens matters.
data_flags=(--task reverse --digits 6 --hidden 24 --seed 3 --valid-split 0.1 --samples 0)
train_flags=("${data_flags[@]}" --size 400 --batch-size 16 --quiet)

case "$case_name" in
  equal_np2 | equal_np3)
    n="${case_name#equal_np}"
    flags=("${train_flags[@]}" --epochs 2)
    # np3: 362 training examples in batches of 20 split 7/7/6, and the last batch of 2 leaves
    # rank 2 an empty shard.
    [[ "$n" == 3 ]] && flags=("${data_flags[@]}" --quiet --epochs 2 --batch-size 20 --size 402)
    "$s2s" train "${flags[@]}" --out one.safetensors
    mpi "$n" "$s2s" train "${flags[@]}" --out many.safetensors
    python3 "$compare" one.safetensors many.safetensors --atol "$kAtol" --with-optimizer
    ;;
  resume)
    "$s2s" train "${train_flags[@]}" --epochs 3 --out one.safetensors
    mpi 2 "$s2s" train "${train_flags[@]}" --epochs 1 --out many.safetensors
    mpi 2 "$s2s" train --resume many.safetensors --epochs 3 --quiet
    python3 "$compare" one.safetensors many.safetensors --atol "$kAtol" --with-optimizer
    ;;
  rank0_writes)
    mkdir rank0 rank1
    mpi 2 bash -c 'cd "rank$OMPI_COMM_WORLD_RANK" && exec "$0" "$@"' "$s2s" train \
      "${data_flags[@]}" --size 400 --batch-size 16 --epochs 1 --out model.safetensors --metrics metrics.jsonl \
      > stdout.txt
    [[ -z "$(ls -A rank1)" ]] || fail "rank 1 wrote files: $(ls -A rank1)"
    for f in model.safetensors model.best.safetensors metrics.jsonl; do
      [[ -s "rank0/$f" ]] || fail "rank 0 did not write $f (has: $(ls -A rank0))"
    done
    [[ "$(ls -A rank0 | wc -l)" == 3 ]] || fail "rank 0 left other files: $(ls -A rank0)"
    [[ "$(wc -l < rank0/metrics.jsonl)" == 1 ]] || fail "metrics.jsonl has not one line"
    grep -q "data parallel: MPI, 2 ranks" stdout.txt || fail "no data-parallel line printed"
    [[ "$(grep -c '^data:' stdout.txt)" == 1 ]] || fail "more than one rank printed"
    ;;
  mismatch)
    status=0
    mpi 2 bash -c 'exec "$0" "$@" --seed $((3 + OMPI_COMM_WORLD_RANK))' "$s2s" train \
      --task reverse --digits 6 --size 400 --hidden 24 --batch-size 16 --epochs 1 --quiet \
      2> err.txt || status=$?
    [[ "$status" != 0 && "$status" != 124 ]] || fail "exit status $status (want non-zero, no hang)"
    grep -q "rank 1 of 2 differs from rank 0 in its" err.txt || fail "$(cat err.txt)"
    ;;
  failing_rank)
    printf 'ab\tba\ncd\tdc\nef\tfe\ngh\thg\n' > good.tsv
    printf 'ab\tba\nno tab on this line\n' > bad.tsv
    status=0
    mpi 2 bash -c 'f=good.tsv; [[ $OMPI_COMM_WORLD_RANK == 1 ]] && f=bad.tsv; exec "$0" "$@" --data $f' \
      "$s2s" train --batch-size 2 --epochs 1 --quiet 2> err.txt || status=$?
    [[ "$status" != 0 && "$status" != 124 ]] || fail "exit status $status (want non-zero, no hang)"
    grep -q "s2s: error: rank 1 of 2: .*bad.tsv" err.txt || fail "$(cat err.txt)"
    ;;
  killed_rank)
    status=0
    mpi 2 bash -c '[[ $OMPI_COMM_WORLD_RANK == 1 ]] && exec timeout -s KILL 2 "$0" "$@"; exec "$0" "$@"' \
      "$s2s" train --task reverse --size 20000 --epochs 100 --quiet 2> err.txt || status=$?
    [[ "$status" != 0 && "$status" != 124 ]] || fail "exit status $status (want non-zero, no hang)"
    grep -q "rank 1" err.txt || fail "$(cat err.txt)"
    ;;
  too_many_ranks)
    status=0
    mpi 3 "$s2s" train "${data_flags[@]}" --size 400 --batch-size 2 --epochs 1 2> err.txt || status=$?
    [[ "$status" != 0 && "$status" != 124 ]] || fail "exit status $status (want non-zero, no hang)"
    grep -q "3 ranks for a global batch of 2 examples" err.txt || fail "$(cat err.txt)"
    ;;
  other_commands)
    status=0
    mpi 2 "$s2s" gen --task addition --size 5 2> err.txt > /dev/null || status=$?
    [[ "$status" != 0 && "$status" != 124 ]] || fail "exit status $status (want non-zero, no hang)"
    grep -q "only \`s2s train\` runs data parallel" err.txt || fail "$(cat err.txt)"
    ;;
  nccl_np2)
    gpus="$("$s2s" devices | grep -c '^cuda ' || true)"
    if [[ "$gpus" -lt 2 ]]; then
      echo "skipped: needs 2 GPUs, found $gpus"
      exit 77
    fi
    "$s2s" train "${train_flags[@]}" --epochs 2 --device cuda --out one.safetensors
    mpi 2 "$s2s" train "${train_flags[@]}" --epochs 2 --device cuda --out many.safetensors
    python3 "$compare" one.safetensors many.safetensors --atol "$kGpuAtol"
    ;;
  *)
    fail "unknown case (see the list at the top of this script)"
    ;;
esac
echo "ok: $case_name"
