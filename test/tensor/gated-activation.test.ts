import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as T from "../../src/tensor/index.js";
import { Generator, type Tensor } from "../../src/tensor/index.js";

const UNFUSED = {
  silu: T.silu,
  gelu: (x: Tensor) => T.gelu(x, "none"),
  gelu_tanh: (x: Tensor) => T.gelu(x, "tanh"),
};

/** The output and both input gradients of one form, for a fixed output gradient. */
function run(dtype: "float32" | "float64", form: (g: Tensor, u: Tensor) => Tensor): Tensor[] {
  const rng = new Generator(5);
  const g = T.mulScalar(T.randn([7, 300], rng, { dtype }), 3).requireGrad();
  const u = T.randn([7, 300], rng, { dtype }).requireGrad();
  const out = form(g, u);
  out.backward(T.randn([7, 300], rng, { dtype }));
  return [out, g.grad!, u.grad!];
}

// Its gradients against finite differences are in gradcheck.test.ts (op-cases.ts), its kernels'
// parity across backends in test/backend/parity.test.ts.
describe("the fused gated activation", () => {
  for (const act of ["silu", "gelu", "gelu_tanh"] as const)
    for (const dtype of ["float32", "float64"] as const)
      it(`${act} in ${dtype}: output and gradients bitwise those of act(g) · u`, () => {
        const fused = run(dtype, (g, u) => T.gatedActivation(g, u, act));
        const plain = run(dtype, (g, u) => T.mul(UNFUSED[act](g), u));
        ["output", "gradient of g", "gradient of u"].forEach((what, i) =>
          assert.deepEqual(fused[i].data, plain[i].data, what),
        );
      });

  it("refuses operands of different shapes", () => {
    assert.throws(() => T.gatedActivation(T.zeros([2, 3]), T.zeros([3, 2]), "silu"), /differ/);
  });
});
