#!/usr/bin/env bash
# The one list of Debian 12 packages Mercato needs to build, run and test.
# Idempotent: installs only what is missing, and is a no-op when all is present.
# Must run as root (or with sudo available) on a Debian/apt system.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang-format git
  # C++ libraries
  libboost-dev libboost-context-dev libssl-dev zlib1g-dev libsqlite3-dev sqlite3 libarchive-dev
  nlohmann-json3-dev libpugixml-dev libabsl-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libxgboost-dev
  # runtime: sandboxes
  bubblewrap iproute2 procps
  # tests and benchmarks
  python3 curl wrk nginx-light
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
