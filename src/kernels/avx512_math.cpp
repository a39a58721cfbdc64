#include "avx512_math.h"

namespace mmtrain::avx512_math {

bool avx512_bf16_available() {
  // __builtin_cpu_supports also checks that the OS saves the AVX-512 state.
  static const bool available = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
  return available;
}

}  // namespace mmtrain::avx512_math
