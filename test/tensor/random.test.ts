import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Generator } from "../../src/tensor/index.js";

describe("Generator", () => {
  it("is deterministic per seed and differs across seeds", () => {
    const draw = (seed: number): number[] => {
      const g = new Generator(seed);
      return Array.from({ length: 5 }, () => g.nextUint32());
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
  });

  it("uniform, normal and bernoulli have the right moments", () => {
    const g = new Generator(1);
    const n = 50000;
    const u = Array.from({ length: n }, () => g.uniform());
    assert.ok(u.every((v) => v >= 0 && v < 1));
    const mu = u.reduce((a, b) => a + b) / n;
    assert.ok(Math.abs(mu - 0.5) < 0.01, `uniform mean ${mu}`);
    const z = Array.from({ length: n }, () => g.normal());
    const zm = z.reduce((a, b) => a + b) / n;
    const zv = z.reduce((a, b) => a + (b - zm) ** 2, 0) / n;
    assert.ok(Math.abs(zm) < 0.02 && Math.abs(zv - 1) < 0.03, `normal mean ${zm}, var ${zv}`);
    const p = Array.from({ length: n }, () => g.bernoulli(0.3)).filter(Boolean).length / n;
    assert.ok(Math.abs(p - 0.3) < 0.01, `bernoulli rate ${p}`);
  });

  it("a saved state resumes the same stream, including a pending normal", () => {
    const g = new Generator(9);
    g.normal();
    const state = g.getState();
    const ahead = [g.normal(), g.uniform(), g.normal()];
    const h = new Generator(0);
    h.setState(state);
    assert.deepEqual([h.normal(), h.uniform(), h.normal()], ahead);
  });
});
