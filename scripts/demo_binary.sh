# Sourced by the demo scripts, from the repository root: installs what is missing, builds the
# binary alone (the test command builds the tests), and sets $mmtrain to it: build/mmtrain, or
# build-pip/mmtrain with MMTRAIN_LIBTORCH=pip (the 2.x build).
bash scripts/setup.sh
bash scripts/build.sh mmtrain
source scripts/libtorch.sh
mmtrain=$build_dir/mmtrain
