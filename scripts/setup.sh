#!/usr/bin/env bash
# Installs what mmtrain's build and demo need on Debian 12 (run as root), and with --tests what the
# tests and benchmarks need too. Idempotent:
# installs only what is missing, and changes nothing else.
set -euo pipefail

# What building mmtrain and running it need (the demo).
packages=(
  build-essential cmake pkg-config ccache
  libtorch-dev libopencv-dev libsentencepiece-dev libyaml-cpp-dev libspdlog-dev
  libgtest-dev nlohmann-json3-dev libpcre2-dev zlib1g-dev libarchive-dev libjpeg62-turbo-dev libgloo-dev
  libblas-dev           # cblas.h and the link name; at run time libblas.so.3 is OpenBLAS
  libopenblas0-openmp   # LibTorch otherwise loads the reference BLAS, 20-40x slower
  dataset-fashion-mnist # scripts/prepare_fashion_mnist.sh
)
# What the tests and benchmarks add (--tests); none of it is a dependency of mmtrain itself.
test_packages=(
  python3-torch         # reference values for tests, and the PyTorch side of the benchmarks
  python3-venv ca-certificates  # scripts/reference_data.sh: open_clip from PyPI, pinned, for reference values
  python3-torchvision python3-pil  # scripts/bench_data.sh: the torchvision pipeline it compares with
  chromium              # renders report.html in tests (headless screenshot)
  clang-14 libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer and the sanitizers' runtimes
)
# MMTRAIN_LIBTORCH=pip (scripts/libtorch.sh): pip's torch goes into a virtualenv.
if [[ ${MMTRAIN_LIBTORCH:-debian} != debian ]]; then
  packages+=(python3-venv ca-certificates)
fi
case ${1:-} in
  "") ;;
  --tests) packages+=("${test_packages[@]}") ;;
  *) echo "usage: scripts/setup.sh [--tests]" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "setup.sh: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi
echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
