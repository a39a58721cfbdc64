// Process start-up: the settings every command applies before touching LibTorch (BLAS kernels,
// allocator tuning, thread count) and the device it runs on. Not the trainer's: eval, embed and the
// tests' main apply them too.
#pragma once

#include <string>

#include <c10/core/Device.h>

namespace mmtrain {

// OpenBLAS picks its kernels once, when it is loaded. On CPUs it does not recognise (virtual
// machines report a generic "Intel Xeon Processor") it falls back to Prescott's SSE3 kernels,
// 3-5x slower than the AVX2/AVX-512 ones the CPU has (measured here: 37 vs 184 GFLOP/s). When
// that happened and the user chose nothing, this re-executes the program once with
// OPENBLAS_CORETYPE set from the CPU's features. Returns only when no re-execution is needed.
void reexec_with_fast_blas_kernels(char** argv);

// glibc trims and re-faults freed memory on every step (2-3x slower training on these VMs):
// raise the mmap and trim thresholds once, before the first allocation of size.
void tune_allocator();

// threads 0 = all cores divided by local_ranks. Returns the count in use.
int configure_threads(int threads, int local_ranks = 1);

// run.device: "auto" | "cpu" | "cuda" | "cuda:N". "cuda" and "auto" mean the GPU cuda:local_rank,
// so that each process of `mmtrain launch` on a host has its own (local_rank 0 alone). Throws
// ConfigError for cuda on a build or machine without it, or for an index it does not have.
c10::Device resolve_device(const std::string& device, int local_rank = 0);

// The BLAS LibTorch will call, for the start-up log ("openblas-openmp", "reference", ...).
std::string blas_in_use();

}  // namespace mmtrain
