// The built-in GEMM for x86-64 with AVX-512 (compiled with -mavx512f -mfma; chosen at run time).
#define MORELORA_GEMM_ISA avx512
#define MORELORA_GEMM_BYTES 64
#include "gemm_blocked.h"

namespace morelora {
namespace avx512 {
// 32 zmm registers: 12x2 accumulators + 2 of B; the narrow tile has 24x1.
template <>
struct Tiles<float> {
  using Main = Tile<12, 2, 256, 96, 4096>;
  using Dot = DotTile<6, 4>;
  using Narrow = Tile<24, 1, 256, 96, 4096>;
};
template <>
struct Tiles<double> {
  using Main = Tile<12, 2, 128, 96, 2048>;
  using Dot = DotTile<6, 4>;
  using Narrow = Tile<24, 1, 128, 96, 2048>;
};
}  // namespace avx512

extern const BuiltinGemm kGemmAvx512 = {"avx512", avx512::gemmBuiltin<float>, avx512::gemmBuiltin<double>};
}  // namespace morelora
