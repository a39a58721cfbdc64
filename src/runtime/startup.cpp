#include "mmtrain/runtime/startup.h"

#include <dlfcn.h>
#include <malloc.h>
#include <strings.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <fstream>
#include <thread>

#include <torch/cuda.h>
#include <torch/utils.h>

#include "mmtrain/errors.h"

namespace mmtrain {

namespace {

using CoreName = char* (*)();

CoreName openblas_core_name() {
  return reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
}

std::string blas_library() {
  // The libblas.so.3 alternative decides which BLAS LibTorch's OpenBLAS calls land in.
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    if (line.find("openblas-openmp") != std::string::npos) return "openblas-openmp";
    if (line.find("openblas-pthread") != std::string::npos) return "openblas-pthread";
    if (line.find("/blas/libblas.so") != std::string::npos) return "reference";
  }
  return "unknown";
}

}  // namespace

void reexec_with_fast_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const CoreName core_name = openblas_core_name();
  if (core_name == nullptr || strcasecmp(core_name(), "prescott") != 0) return;
  const char* core = __builtin_cpu_supports("avx512f") ? "SkylakeX"
                     : __builtin_cpu_supports("avx2")  ? "Haswell"
                                                       : nullptr;
  if (core == nullptr) return;
  setenv("OPENBLAS_CORETYPE", core, 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then run on as we are
}

void tune_allocator() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

int configure_threads(int threads, int local_ranks) {
  if (threads <= 0) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::max(1, cores / std::max(1, local_ranks));
  }
  torch::set_num_threads(threads);
  return threads;
}

c10::Device resolve_device(const std::string& device, int local_rank) {
  if (device == "cpu") return c10::Device(c10::kCPU);
  const int available = static_cast<int>(torch::cuda::device_count());  // 0 without CUDA
  if (device == "auto" && available == 0) return c10::Device(c10::kCPU);
  if (available == 0) {
    throw ConfigError("run.device: " + device + " requested but this LibTorch build or machine has no CUDA device");
  }
  const bool explicit_index = device.rfind("cuda:", 0) == 0;
  const int index = explicit_index ? std::stoi(device.substr(5)) : local_rank;
  if (index >= available) {
    throw ConfigError("run.device: " + device + (explicit_index ? "" : " for local rank " + std::to_string(local_rank)) +
                      " needs GPU " + std::to_string(index) + ", this machine has " + std::to_string(available));
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::string blas_in_use() {
  std::string kernels;
  if (const CoreName core_name = openblas_core_name()) {
    kernels = std::string(" (") + core_name() + " kernels)";
  }
  return blas_library() + kernels;
}

}  // namespace mmtrain
