#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
bash scripts/build.sh
# open_clip's reference outputs for the parity tests, made here from pinned PyPI packages (once;
# kept under $HOME/.cache and build/reference).
bash scripts/reference_data.sh build/reference
ctest --test-dir build --output-on-failure --timeout 900 "$@"
