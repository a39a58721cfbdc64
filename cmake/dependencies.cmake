# The libraries mmtrain builds against, found once for the main build and for fuzz/ (which
# includes this file from its own project).
include(${CMAKE_CURRENT_LIST_DIR}/libtorch.cmake)
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)  # WebDataset shards
pkg_check_modules(LIBJPEG REQUIRED IMPORTED_TARGET libjpeg)  # JPEG straight to RGB
find_package(ZLIB REQUIRED)
find_package(BLAS REQUIRED)  # the attention kernel's per-head GEMMs, through the BLAS LibTorch loads
find_package(OpenMP REQUIRED COMPONENTS CXX)  # the runtime LibTorch's threads already use
