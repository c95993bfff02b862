import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inverseFrequencies, ropeTables } from "../../src/models/rope.js";

describe("ropeTables", () => {
  it("gives each row the cos and sin of its own position, repeated or not", () => {
    const inv = inverseFrequencies({ theta: 10000, headDim: 8, scaling: null });
    // Rows that share positions (a batch of equal rows) and rows that do not (left padding).
    const positions = Int32Array.from([0, 1, 2, 3, 5, 1, 2, 9, 0, 1, 2, 3]);
    const { cos, sin } = ropeTables(inv, positions, 3, 4, "float32");
    assert.deepEqual(cos.shape, [3, 4, 1, 8]);
    const want = (f: (a: number) => number): Float32Array =>
      Float32Array.from({ length: 12 * 8 }, (_, j) => f(positions[Math.floor(j / 8)] * inv[j % 4]));
    assert.deepEqual(cos.data, want(Math.cos));
    assert.deepEqual(sin.data, want(Math.sin));
  });
});
