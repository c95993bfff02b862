// The built-in GEMM for any CPU: 16-byte vectors (SSE2 on x86-64), compiled with the base flags.
#define MORELORA_GEMM_ISA portable
#define MORELORA_GEMM_BYTES 16
#include "gemm_blocked.h"

namespace morelora {
namespace portable {
// 16 registers: 6x2 accumulators + 2 of B + A and a product (no FMA); the narrow tile has 8x1.
template <>
struct Tiles<float> {
  using Main = Tile<6, 2, 256, 96, 4096>;
  using Dot = DotTile<3, 3>;
  using Narrow = Tile<8, 1, 256, 96, 4096>;
};
template <>
struct Tiles<double> {
  using Main = Tile<6, 2, 128, 96, 2048>;
  using Dot = DotTile<3, 3>;
  using Narrow = Tile<8, 1, 128, 96, 2048>;
};
}  // namespace portable

extern const BuiltinGemm kGemmPortable = {"portable", portable::gemmBuiltin<float>, portable::gemmBuiltin<double>};
}  // namespace morelora
