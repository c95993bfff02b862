// The built-in GEMM for x86-64 with AVX2 and FMA (compiled with -mavx2 -mfma; chosen at run time).
#define MORELORA_GEMM_ISA avx2
#define MORELORA_GEMM_BYTES 32
#include "gemm_blocked.h"

namespace morelora {
namespace avx2 {
// 16 ymm registers: 6x2 accumulators + 2 of B + 1 broadcast of A; the narrow tile has 12x1.
template <>
struct Tiles<float> {
  using Main = Tile<6, 2, 256, 96, 4096>;
  using Dot = DotTile<4, 3>;
  using Narrow = Tile<12, 1, 256, 96, 4096>;
};
template <>
struct Tiles<double> {
  using Main = Tile<6, 2, 128, 96, 2048>;
  using Dot = DotTile<4, 3>;
  using Narrow = Tile<12, 1, 128, 96, 2048>;
};
}  // namespace avx2

extern const BuiltinGemm kGemmAvx2 = {"avx2", avx2::gemmBuiltin<float>, avx2::gemmBuiltin<double>};
}  // namespace morelora
