# Which LibTorch mmtrain builds against (docs/building.md):
#   debian  Debian 12's libtorch-dev 1.13.1, CPU only: the default.
#   pip     PyTorch's own LibTorch 2.x from a `pip install torch` (CPU and CUDA); MMTRAIN_TORCH_PREFIX
#           is its CMake prefix, as `python3 -c 'import torch;print(torch.utils.cmake_prefix_path)'`
#           prints it. scripts/libtorch_pip.sh installs one under ~/.cache/mmtrain.
# Sets MMTRAIN_LIBTORCH_INCLUDE_OVERRIDES: include folders that must come before LibTorch's own;
# MMTRAIN_LIBTORCH_LINK_OPTIONS: link options for executables.
set(MMTRAIN_LIBTORCH "debian" CACHE STRING "LibTorch to build against: debian or pip")
set_property(CACHE MMTRAIN_LIBTORCH PROPERTY STRINGS debian pip)
set(MMTRAIN_TORCH_PREFIX "" CACHE PATH "CMake prefix of pip's torch (MMTRAIN_LIBTORCH=pip)")
set(MMTRAIN_LIBTORCH_INCLUDE_OVERRIDES "")
set(MMTRAIN_LIBTORCH_LINK_OPTIONS "")

if(MMTRAIN_LIBTORCH STREQUAL "debian")
  find_package(Torch REQUIRED)
  if(Torch_VERSION VERSION_GREATER_EQUAL 2)
    message(FATAL_ERROR "MMTRAIN_LIBTORCH=debian found LibTorch ${Torch_VERSION} in ${Torch_DIR}; "
                        "expected Debian's 1.13 (use MMTRAIN_LIBTORCH=pip for a 2.x LibTorch)")
  endif()
elseif(MMTRAIN_LIBTORCH STREQUAL "pip")
  if(NOT IS_DIRECTORY "${MMTRAIN_TORCH_PREFIX}/Torch")
    message(FATAL_ERROR "MMTRAIN_LIBTORCH=pip needs MMTRAIN_TORCH_PREFIX, the folder holding Torch/TorchConfig.cmake "
                        "(torch.utils.cmake_prefix_path); got '${MMTRAIN_TORCH_PREFIX}'")
  endif()
  # Only this prefix: Debian's 1.13 configs must never be picked up instead. TorchConfig.cmake
  # looks for Caffe2 on the default search path before its own folder, which finds Debian's.
  set(Caffe2_DIR "${MMTRAIN_TORCH_PREFIX}/Caffe2" CACHE PATH "pip torch's Caffe2 config" FORCE)
  find_package(Torch REQUIRED PATHS "${MMTRAIN_TORCH_PREFIX}" NO_DEFAULT_PATH)
  get_filename_component(torch_root "${MMTRAIN_TORCH_PREFIX}/../.." ABSOLUTE)
  foreach(dir IN LISTS TORCH_INCLUDE_DIRS Caffe2_DIR)
    cmake_path(IS_PREFIX torch_root "${dir}" NORMALIZE inside_torch)
    if(NOT inside_torch AND NOT dir MATCHES "cuda")  # CUDA's own headers are the toolkit's
      message(FATAL_ERROR "MMTRAIN_LIBTORCH=pip: '${dir}' lies outside pip's torch (${torch_root})")
    endif()
  endforeach()
  # pip's torch carries fmt 12 headers in its include folder, which comes first; Debian's spdlog is
  # compiled against Debian's fmt 9, so every <fmt/...> must resolve to Debian's (torch's own fmt
  # is linked into its libraries, hidden; its headers use only fmt's stable API).
  find_path(MMTRAIN_FMT_INCLUDE fmt/format.h PATHS /usr/include NO_DEFAULT_PATH REQUIRED)
  set(override "${CMAKE_BINARY_DIR}/include-overrides")
  file(MAKE_DIRECTORY "${override}")
  file(CREATE_LINK "${MMTRAIN_FMT_INCLUDE}/fmt" "${override}/fmt" SYMBOLIC)
  list(APPEND MMTRAIN_LIBTORCH_INCLUDE_OVERRIDES "${override}")
  # pip's libtorch.so exports its own static copy of std::filesystem (from another GCC); when it
  # comes before libstdc++ in the library search order, our std::filesystem calls bind to it and
  # crash. libstdc++ first in DT_NEEDED makes the dynamic linker find the system's definitions.
  list(APPEND MMTRAIN_LIBTORCH_LINK_OPTIONS "LINKER:--push-state,--no-as-needed" "-lstdc++" "LINKER:--pop-state")
else()
  message(FATAL_ERROR "MMTRAIN_LIBTORCH is '${MMTRAIN_LIBTORCH}'; expected debian or pip")
endif()
message(STATUS "mmtrain: LibTorch ${Torch_VERSION} (${MMTRAIN_LIBTORCH}) from ${Torch_DIR}")
