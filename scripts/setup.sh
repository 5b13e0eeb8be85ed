#!/usr/bin/env bash
# Installs what s2s needs to build and test on Debian/Ubuntu, and only what is missing:
# each Debian package is checked with dpkg-query (`apt-get update` runs only when something is
# missing), then each Python module the tests use is checked by importing it with python3 and
# installed with pip when missing. Quiet when everything is present; safe to run again. Uses
# sudo only when not root. The CUDA toolkit is not installed here: it is optional. Open MPI is
# installed for data-parallel training (mpirun -np N s2s train) and its tests.
set -euo pipefail

# clang-14 and its libFuzzer runtime: scripts/fuzz.sh (a bounded pass runs in scripts/test.sh).
packages=(
  cmake ninja-build g++ pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libopenblas-dev libpng-dev
  python3 python3-pip
  openmpi-bin libopenmpi-dev
  clang-14 libclang-rt-14-dev
)
# Python modules used by tests (scripts/check_checkpoint.py reads a checkpoint with safetensors):
# the import name, which is also the pip package name.
python_modules=(numpy safetensors)

installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup.sh: not a Debian-based system (no dpkg-query); install by hand: ${packages[*]}" >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  installed "$package" || missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "setup.sh: installing ${missing[*]}"
  as_root=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
    as_root=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup.sh: Debian packages done"
fi

# For the python3 the tests will run (the first on PATH, which need not be Debian's).
missing_modules=()
for module in "${python_modules[@]}"; do
  python3 -c "import $module" >/dev/null 2>&1 || missing_modules+=("$module")
done
if [[ ${#missing_modules[@]} -gt 0 ]]; then
  echo "setup.sh: pip installing ${missing_modules[*]}"
  # A Debian-managed python3 refuses plain pip installs (PEP 668): then install for this user.
  python3 -m pip install --quiet --disable-pip-version-check "${missing_modules[@]}" 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check --user --break-system-packages \
      "${missing_modules[@]}"
  echo "setup.sh: Python modules done"
fi
