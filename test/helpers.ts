import assert from "node:assert/strict";
import { Generator, mul, noGrad, randn, sum, type Tensor } from "../src/tensor/index.js";

/** |got - want| <= atol + rtol·|want| elementwise, with the worst offender in the message. */
export function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  { rtol = 1e-6, atol = 1e-8, what = "values" }: { rtol?: number; atol?: number; what?: string } = {},
): void {
  assert.equal(got.length, want.length, `${what}: length ${got.length} != ${want.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < got.length; i++) {
    const excess = Math.abs(got[i] - want[i]) - (atol + rtol * Math.abs(want[i]));
    if (excess > worstExcess || Number.isNaN(got[i]) !== Number.isNaN(want[i])) {
      worstExcess = Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what}: element ${worst} is ${got[worst]}, expected ${want[worst]} (rtol ${rtol}, atol ${atol})`,
    );
  }
}

/**
 * Checks every input's analytic gradient of sum(f(inputs) · w), for a fixed random w, against
 * central finite differences. Inputs must be float64 leaves that require grad.
 */
export function gradCheck(
  f: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  {
    h = 1e-6,
    rtol = 1e-5,
    atol = 1e-7,
    seed = 7,
  }: { h?: number; rtol?: number; atol?: number; seed?: number } = {},
): void {
  for (const t of inputs) {
    assert.equal(t.dtype, "float64", "gradCheck needs float64 inputs");
    t.requireGrad();
    t.zeroGrad();
  }
  const probe = f(...inputs);
  const w = randn(probe.shape, new Generator(seed), { dtype: "float64" });
  const loss = (): number => noGrad(() => sum(mul(f(...inputs), w)).item());
  sum(mul(probe, w)).backward();
  inputs.forEach((t, which) => {
    const numeric = new Float64Array(t.size);
    const data = t.data as Float64Array;
    for (let i = 0; i < t.size; i++) {
      const keep = data[i];
      data[i] = keep + h;
      const up = loss();
      data[i] = keep - h;
      const down = loss();
      data[i] = keep;
      numeric[i] = (up - down) / (2 * h);
    }
    assert.ok(t.grad, `input ${which} got no gradient`);
    assertClose(t.grad.data, numeric, { rtol, atol, what: `gradient of input ${which}` });
  });
}
