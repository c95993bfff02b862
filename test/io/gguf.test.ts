import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { GGMLQuantizationType, gguf as readGguf } from "@huggingface/gguf";
import { bf16ToFloat, halfToFloat } from "../../src/io/dtypes.js";
import { gguf, writeGguf } from "../../src/io/gguf.js";
import { Generator } from "../../src/tensor/index.js";
import { assertClose } from "../helpers.js";

const tmp = (): string => mkdtempSync(join(tmpdir(), "morelora-gguf-io-"));

/** The values of a written tensor, decoded here from the GGUF spec's layouts. */
function decode(bytes: Buffer, type: GGMLQuantizationType, count: number): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) => {
    if (type === GGMLQuantizationType.F32) return v.getFloat32(i * 4, true);
    if (type === GGMLQuantizationType.F16) return halfToFloat(v.getUint16(i * 2, true));
    if (type === GGMLQuantizationType.BF16) return bf16ToFloat(v.getUint16(i * 2, true));
    const block = Math.floor(i / 32) * 34; // Q8_0: f16 scale, then 32 int8
    return halfToFloat(v.getUint16(block, true)) * v.getInt8(block + 2 + (i % 32));
  });
}

describe("GGUF writer", () => {
  it("writes metadata and tensors that @huggingface/gguf reads back, data aligned and exact", async () => {
    const file = join(tmp(), "t.gguf");
    const rng = new Generator(1);
    const values = Array.from({ length: 3 * 64 }, () => rng.normal(0, 1));
    const types = ["F32", "F16", "BF16", "Q8_0"] as const;
    writeGguf(
      file,
      new Map([
        ["general.architecture", gguf.str("llama")],
        ["x.count", gguf.u32(7)],
        ["x.eps", gguf.f32(1e-5)],
        ["x.flag", gguf.bool(false)],
        ["x.tokens", gguf.strings(["a", "ü b", ""])],
        ["x.types", gguf.i32s([1, -3])],
      ]),
      types.map((type) => ({ name: `w.${type}`, shape: [3, 64], type, values: () => values })),
    );
    const parsed = await readGguf(file, { allowLocalFile: true });
    const { tensorInfos, tensorDataOffset } = parsed;
    const metadata = parsed.metadata as unknown as Record<string, unknown>;
    assert.equal(metadata.version, 3);
    assert.equal(metadata["general.architecture"], "llama");
    assert.equal(metadata["x.count"], 7);
    assert.ok(Math.abs((metadata["x.eps"] as number) - 1e-5) < 1e-12);
    assert.equal(metadata["x.flag"], false);
    assert.deepEqual(metadata["x.tokens"], ["a", "ü b", ""]);
    assert.deepEqual(metadata["x.types"], [1, -3]);
    const bytes = readFileSync(file);
    assert.equal(Number(tensorDataOffset) % 32, 0);
    tensorInfos.forEach((info, i) => {
      assert.equal(info.name, `w.${types[i]}`);
      assert.deepEqual(info.shape, [64n, 3n], "innermost dimension first");
      assert.equal(info.dtype, GGMLQuantizationType[types[i]]);
      const start = Number(tensorDataOffset + info.offset);
      assert.equal(start % 32, 0);
      const got = decode(bytes.subarray(start), info.dtype, values.length);
      // f16 and bf16 round to 11 and 8 significant bits; Q8_0 to half a step of max|x|/127 per block.
      const tol = { F32: 1e-7, F16: 1e-3, BF16: 8e-3, Q8_0: 0 }[types[i]];
      if (types[i] === "Q8_0")
        for (let b = 0; b < values.length / 32; b++) {
          const block = values.slice(b * 32, b * 32 + 32);
          const step = Math.max(...block.map(Math.abs)) / 127;
          assertClose(got.slice(b * 32, b * 32 + 32), block, { atol: step / 2 + 1e-3 * step, rtol: 1e-3 });
        }
      else assertClose(got, values, { rtol: tol, atol: 1e-30, what: types[i] });
    });
    // The last tensor (Q8_0: 3 rows of 2 blocks of 34 bytes) is padded to the alignment too.
    assert.equal(
      bytes.length,
      Number(tensorDataOffset + tensorInfos[3].offset) + Math.ceil((3 * 2 * 34) / 32) * 32,
    );
  });

  it("refuses values outside their type, rows Q8_0 cannot block, and duplicate names", () => {
    const file = join(tmp(), "bad.gguf");
    assert.throws(
      () => writeGguf(file, new Map([["k", gguf.u32(-1)]]), []),
      /"k": a value does not fit its type uint32/,
    );
    const t = { name: "w", shape: [2, 40], values: () => new Float32Array(80) };
    assert.throws(
      () => writeGguf(file, new Map(), [{ ...t, type: "Q8_0" }]),
      /multiple of 32 values; this row has 40/,
    );
    assert.throws(
      () =>
        writeGguf(file, new Map(), [
          { ...t, type: "F32" },
          { ...t, type: "F32" },
        ]),
      /"w" is written twice/,
    );
  });
});
