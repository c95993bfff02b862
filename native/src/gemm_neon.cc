// The built-in GEMM for arm64 (NEON is part of the base instruction set there).
#define MORELORA_GEMM_ISA neon
#define MORELORA_GEMM_BYTES 16
#include "gemm_blocked.h"

namespace morelora {
namespace neon {
// 32 q registers: 8x3 accumulators + 3 of B + 1 of A; the narrow tile has 16x1.
template <>
struct Tiles<float> {
  using Main = Tile<8, 3, 256, 96, 4096>;
  using Dot = DotTile<6, 4>;
  using Narrow = Tile<16, 1, 256, 96, 4096>;
};
template <>
struct Tiles<double> {
  using Main = Tile<8, 3, 128, 96, 2048>;
  using Dot = DotTile<6, 4>;
  using Narrow = Tile<16, 1, 128, 96, 2048>;
};
}  // namespace neon

extern const BuiltinGemm kGemmNeon = {"neon", neon::gemmBuiltin<float>, neon::gemmBuiltin<double>};
}  // namespace morelora
