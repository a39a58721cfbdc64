#!/usr/bin/env bash
# Installs PyTorch's own LibTorch (pip's torch wheel, CPU and CUDA) once into a virtualenv under
# ~/.cache/mmtrain, out of the system Python, and prints its CMake prefix (what
# torch.utils.cmake_prefix_path says). Clean clones and CI reuse the same virtualenv; pip's own
# download cache (~/.cache/pip) makes a rebuilt one quick.
#
#   scripts/libtorch_pip.sh          install when missing, print the prefix
#
# MMTRAIN_TORCH_PIP_VERSION overrides the pinned version (2.11.0). Exit status: 0 ready, 1 failed.
set -euo pipefail

version=${MMTRAIN_TORCH_PIP_VERSION:-2.11.0}
venv="$HOME/.cache/mmtrain/torch-$version"
python=/usr/bin/python3

prefix() { "$venv/bin/python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null; }

if [[ ! -f $venv/.installed ]]; then
  echo "libtorch_pip.sh: installing torch==$version into $venv (once; about 5 GB)" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv" >&2 || { echo "libtorch_pip.sh: cannot make a virtualenv (python3-venv missing?)" >&2; exit 1; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "torch==$version" >&2 ||
    { echo "libtorch_pip.sh: pip install torch==$version failed" >&2; exit 1; }
  touch "$venv/.installed"
fi
found=$(prefix) || { echo "libtorch_pip.sh: $venv holds no importable torch; remove it and run again" >&2; exit 1; }
echo "$found"
