#!/usr/bin/env bash
# Writes a self-contained folder for a bare GPU machine (CUDA, CMake, ninja, a compiler and
# PyTorch, but none of the Debian dev packages and no network): the sources, the dependencies'
# headers and libraries in deps/ (found by CMake through -DS2S_DEPS_DIR, cmake/S2sBundledDeps.cmake)
# and run.sh, the one command to run there (scripts/gpu-bundle-run.sh: configure, build for
# sm_90, every gpu test, compute-sanitizer memcheck and racecheck on a subset, the PyTorch
# (cuDNN) side-by-side benchmark, one table; within 7 minutes).
#
# Usage: bash scripts/gpu-bundle.sh DIR      (DIR must not exist or be empty; at most 60 MiB)
# Needs the packages scripts/setup.sh installs (they are copied from this machine) and binutils.
set -euo pipefail

limit_mib=60
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -ne 1 ]]; then
  echo "usage: $0 DIR (a new or empty folder for the bundle)" >&2
  exit 2
fi
out="$1"
if [[ -e "$out" && -n "$(ls -A "$out" 2>/dev/null)" ]]; then
  echo "gpu-bundle: $out exists and is not empty; give a new or empty folder" >&2
  exit 2
fi
mkdir -p "$out/s2s" "$out/deps/include" "$out/deps/lib"
out="$(cd "$out" && pwd)"

need() {  # need PATH WHAT: the file or folder must exist on this machine
  if [[ ! -e "$1" ]]; then
    echo "gpu-bundle: $1 ($2) is missing here; run scripts/setup.sh first" >&2
    exit 1
  fi
}

# ---- the sources: tracked and new, not ignored files of the working tree --------------------
(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$out/s2s")

# ---- headers ----------------------------------------------------------------------------------
inc=/usr/include
for dir in gtest gmock benchmark CLI nlohmann fmt; do
  need "$inc/$dir" "headers of $dir"
  cp -rL "$inc/$dir" "$out/deps/include/"
done
multiarch="$inc/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"
for header in cblas.h openblas_config.h; do
  need "$multiarch/$header" "OpenBLAS' $header"
  cp -L "$multiarch/$header" "$out/deps/include/"
done
# libpng (the tool's attention heat maps) and the zlib it compresses with.
for header in png.h pngconf.h pnglibconf.h zlib.h zconf.h; do
  need "$inc/$header" "the header $header (libpng-dev, zlib1g-dev)"
  cp -L "$inc/$header" "$out/deps/include/"
done

# ---- libraries ----------------------------------------------------------------------------------
lib="/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"
for archive in libgtest.a libgtest_main.a; do
  need "$lib/$archive" "GoogleTest"
  cp -L "$lib/$archive" "$out/deps/lib/"
done
for archive in libpng16.a libz.a; do
  need "$lib/$archive" "libpng and zlib (static)"
  cp -L "$lib/$archive" "$out/deps/lib/"
done
# Debian ships fmt and Google Benchmark as shared libraries only: copied under their sonames.
need "$lib/libfmt.so.9" "fmt"
cp -L "$lib/libfmt.so.9" "$out/deps/lib/libfmt.so.9"
need "$lib/libbenchmark.so.1debian" "Google Benchmark"
cp -L "$lib/libbenchmark.so.1debian" "$out/deps/lib/libbenchmark.so.1debian"
# OpenBLAS' static library is 58 MB; s2s calls cblas_sgemm and cblas_dgemm only, so one
# relocatable object of just the members those pull in (every CPU kernel of its DYNAMIC_ARCH
# build included) replaces it, without debug sections.
need "$lib/libopenblas.a" "OpenBLAS (static)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ld -r -u cblas_sgemm -u cblas_dgemm "$(readlink -f "$lib/libopenblas.a")" -o "$work/gemm.o"
strip --strip-debug "$work/gemm.o"
ar rcs "$out/deps/lib/libopenblas_gemm.a" "$work/gemm.o"

# ---- the one command -------------------------------------------------------------------------
cp "$root/scripts/gpu-bundle-run.sh" "$out/run.sh"
chmod +x "$out/run.sh"
cat > "$out/README.txt" <<TEXT
s2s GPU bundle, written by scripts/gpu-bundle.sh from $(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo "a working tree")$(cd "$root" && git diff --quiet HEAD 2>/dev/null || echo " with local changes").
On the GPU machine: bash run.sh   (builds into ./build; prints one table last; exit 0 = all passed)
TEXT

size_kib=$(du -sk "$out" | cut -f1)
size_mib=$(( (size_kib + 1023) / 1024 ))
echo "gpu-bundle: wrote $out (${size_mib} MiB)"
if (( size_kib > limit_mib * 1024 )); then
  echo "gpu-bundle: the bundle is larger than ${limit_mib} MiB" >&2
  exit 1
fi
