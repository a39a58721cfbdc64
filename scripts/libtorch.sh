# Sourced by the build, test and demo scripts: which LibTorch to build against and where.
#   MMTRAIN_LIBTORCH=debian  Debian's libtorch-dev 1.13.1, CPU (the default): build/
#   MMTRAIN_LIBTORCH=pip     pip's torch 2.x, CPU and CUDA (scripts/libtorch_pip.sh): build-pip/
# MMTRAIN_SANITIZE=address (or 1: ASan+UBSan) or thread (TSan) builds into build-asan/ or build-tsan/
# (build-pip-asan/, ... with pip's LibTorch) instead.
# Sets build_dir and cmake_libtorch_args (the -D flags for cmake's first configure).
case ${MMTRAIN_LIBTORCH:-debian} in
  debian)
    build_dir=build
    cmake_libtorch_args=(-DMMTRAIN_LIBTORCH=debian)
    ;;
  pip)
    build_dir=build-pip
    torch_prefix=$(bash "$(dirname "${BASH_SOURCE[0]}")/libtorch_pip.sh")
    # The reference data for tests is the same for both builds: made once, in build/reference.
    cmake_libtorch_args=(-DMMTRAIN_LIBTORCH=pip "-DMMTRAIN_TORCH_PREFIX=$torch_prefix"
                         "-DMMTRAIN_REFERENCE_DATA=$(pwd)/build/reference")
    ;;
  *)
    echo "MMTRAIN_LIBTORCH='$MMTRAIN_LIBTORCH': expected debian or pip" >&2
    exit 2
    ;;
esac
case ${MMTRAIN_SANITIZE:-} in
  "") ;;
  address | 1) build_dir+=-asan; cmake_libtorch_args+=(-DMMTRAIN_SANITIZE=address) ;;
  thread) build_dir+=-tsan; cmake_libtorch_args+=(-DMMTRAIN_SANITIZE=thread) ;;
  *)
    echo "MMTRAIN_SANITIZE='$MMTRAIN_SANITIZE': expected address or thread" >&2
    exit 2
    ;;
esac
# Every build's tests read the one copy of the reference data that test.sh makes in build/reference.
if [[ $build_dir != build ]]; then
  cmake_libtorch_args+=("-DMMTRAIN_REFERENCE_DATA=$(pwd)/build/reference")
fi
