#!/usr/bin/env bash
# Writes Fashion-MNIST as mmtrain data into data/fashion_mnist/ (train/ PNGs + captioned train.csv,
# test/<class>/ PNGs + test.csv, classnames.txt, templates.txt) from the IDX files of the Debian
# package dataset-fashion-mnist; configs/fashion_mnist.yaml trains on the result.
#
#   bash scripts/prepare_fashion_mnist.sh                      # all 60,000 training images
#   bash scripts/prepare_fashion_mnist.sh --max-train 5000     # a quick subset (test set stays whole)
#
# Extra arguments go to `mmtrain data fashion-mnist`. A rerun with the same options does nothing.
# FASHION_MNIST_IDX overrides where the IDX files are read from; MMTRAIN the binary (build/mmtrain).
set -euo pipefail
cd "$(dirname "$0")/.."
idx_dir=${FASHION_MNIST_IDX:-/usr/share/datasets/fashion-mnist}
mmtrain=${MMTRAIN:-build/mmtrain}

if [[ ! -f $idx_dir/train-images-idx3-ubyte.gz && ! -f $idx_dir/train-images-idx3-ubyte ]]; then
  echo "$idx_dir: no Fashion-MNIST IDX files; install them with" >&2
  echo "  apt-get install dataset-fashion-mnist    (or set FASHION_MNIST_IDX to their folder)" >&2
  exit 2
fi
[[ -x $mmtrain ]] || bash scripts/build.sh

"$mmtrain" data fashion-mnist --idx-dir "$idx_dir" --out data/fashion_mnist "$@"
