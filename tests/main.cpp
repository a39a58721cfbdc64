// The test binary's entry: the same start-up as `mmtrain` (BLAS kernels, allocator), so tests
// exercise what users run.
#include <gtest/gtest.h>

#include "mmtrain/registered_names.h"
#include "mmtrain/runtime/startup.h"

int main(int argc, char** argv) {
  mmtrain::reexec_with_fast_blas_kernels(argv);
  mmtrain::tune_allocator();
  mmtrain::register_builtins();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
