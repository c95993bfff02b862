import { describe, it } from "node:test";
import { Generator, mul, randn, sum } from "../../src/tensor/index.js";
import { assertClose } from "../helpers.js";
import { opCases } from "./op-cases.js";

describe("float32 kernels agree with float64, forward and backward", () => {
  for (const c of opCases) {
    it(c.name, () => {
      const x64 = c.make(new Generator(3)).map((t) => t.requireGrad());
      const x32 = x64.map((t) => t.to("float32").requireGrad());
      const y64 = c.f(...x64);
      const y32 = c.f(...x32);
      const rtol = c.f32rtol ?? 1e-4;
      assertClose(y32.data, y64.data, { rtol, atol: 1e-5, what: "forward" });
      const w = randn(y64.shape, new Generator(9), { dtype: "float64" });
      sum(mul(y64, w)).backward();
      sum(mul(y32, w.to("float32"))).backward();
      x64.forEach((t, i) => {
        assertClose(x32[i].grad!.data, t.grad!.data, { rtol, atol: 1e-5, what: `gradient ${i}` });
      });
    });
  }
});
