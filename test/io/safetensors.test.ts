import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  loadSafetensors,
  type SafetensorsDType,
  SafetensorsFile,
  saveSafetensors,
  writeFileAtomic,
} from "../../src/io/index.js";
import { tensor } from "../../src/tensor/index.js";

const dir = mkdtempSync(join(tmpdir(), "morelora-st-"));

/** A file with a hand-written header: the way to make every malformed case. */
function rawFile(name: string, header: string, data: Uint8Array, declaredLength?: bigint): string {
  const h = Buffer.from(header, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(declaredLength ?? BigInt(h.length));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([len, h, data]));
  return path;
}

describe("safetensors round trip", () => {
  const cases: [SafetensorsDType, number[], number[]][] = [
    ["F64", [0.1, -2.5e300, 3], [0.1, -2.5e300, 3]],
    ["F32", [0.1, -2.5, 3e30], [Math.fround(0.1), -2.5, Math.fround(3e30)]],
    // halves: exact values, a rounding case (1 + 2^-11 ties to even -> 1), infinity, a subnormal
    ["F16", [1.5, -0.25, 1 + 2 ** -11, 70000, 2 ** -24], [1.5, -0.25, 1, Number.POSITIVE_INFINITY, 2 ** -24]],
    ["BF16", [1.5, -0.25, 3.140625, 1 + 2 ** -8], [1.5, -0.25, 3.140625, 1]],
    ["I64", [-5, 2147483647, 0], [-5, 2147483647, 0]],
    ["I32", [-5, 7, 2147483647], [-5, 7, 2147483647]],
    ["I16", [-32768, 5, 32767], [-32768, 5, 32767]],
    ["I8", [-128, 5, 127], [-128, 5, 127]],
    ["U8", [0, 200, 255], [0, 200, 255]],
    ["BOOL", [1, 0, 1], [1, 0, 1]],
  ];
  for (const [dtype, values, expected] of cases) {
    it(`${dtype} values survive a write and a read`, () => {
      const path = join(dir, `rt-${dtype}.safetensors`);
      const t = tensor(Float64Array.from(values), [values.length]);
      saveSafetensors(path, { x: { tensor: t, dtype } }, { format: "pt" });
      const f = SafetensorsFile.open(path);
      assert.equal(f.info("x").dtype, dtype);
      assert.deepEqual(f.metadata, { format: "pt" });
      assert.deepEqual(f.read("x").toArray(), expected);
      f.close();
    });
  }

  it("keeps names, shapes, order and dtypes of plain tensors; data is 8-byte aligned", () => {
    const path = join(dir, "plain.safetensors");
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = tensor([1, 2], { dtype: "float64" });
    const c = tensor(Int32Array.from([7]), [1, 1]);
    saveSafetensors(path, [
      ["a", a],
      ["b", b],
      ["c", c],
    ]);
    const bytes = readFileSync(path);
    assert.equal(Number(bytes.readBigUInt64LE(0)) % 8, 0);
    const back = loadSafetensors(path);
    assert.deepEqual([...back.keys()], ["a", "b", "c"]);
    assert.deepEqual(back.get("a")!.shape, [2, 3]);
    assert.equal(back.get("b")!.dtype, "float64");
    assert.equal(back.get("c")!.dtype, "int32");
    assert.deepEqual(back.get("a")!.toArray(), [1, 2, 3, 4, 5, 6]);
  });

  it("reads one tensor without touching the others' bytes", () => {
    const path = join(dir, "lazy.safetensors");
    saveSafetensors(path, { first: tensor([1, 2]), second: tensor([3, 4]) });
    // Corrupt the first tensor's bytes: reading the second must not notice.
    const bytes = readFileSync(path);
    const f = SafetensorsFile.open(path);
    const start = bytes.length - 16 + f.info("first").begin;
    bytes.fill(0xff, start, start + 8);
    writeFileSync(path, bytes);
    assert.deepEqual(f.read("second").toArray(), [3, 4]);
    assert.ok(Number.isNaN(f.read("first").data[0]));
    f.close();
  });

  it("writes atomically: a failed write leaves the old file whole and no temporary behind", () => {
    const path = join(dir, "atomic.safetensors");
    saveSafetensors(path, { x: tensor([1, 2, 3]) });
    assert.throws(
      () => saveSafetensors(path, { x: { tensor: tensor([1]), dtype: "NOPE" as SafetensorsDType } }),
      /unknown safetensors dtype "NOPE"/,
    );
    // A failure in the middle of writing the bytes:
    assert.throws(() => writeFileAtomic(path, ["partial", { byteLength: 10 } as unknown as Uint8Array]));
    assert.deepEqual(loadSafetensors(path).get("x")!.toArray(), [1, 2, 3]);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes("atomic") && n.endsWith(".tmp")),
      [],
    );
  });
});

describe("malformed safetensors files are rejected with the file and the problem named", () => {
  const f32 = (...v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer);
  const entry = (dtype: string, shape: number[], offsets: number[]): string =>
    JSON.stringify({ dtype, shape, data_offsets: offsets });
  const cases: [string, () => string, RegExp][] = [
    [
      "a file shorter than 8 bytes",
      () => {
        writeFileSync(join(dir, "short"), "abc");
        return join(dir, "short");
      },
      /too short/,
    ],
    [
      "a header length beyond the file",
      () => rawFile("long", "{}", new Uint8Array(), 1000n),
      /runs past the end/,
    ],
    [
      "an absurd header length",
      () => rawFile("absurd", "{}", new Uint8Array(), 2n ** 62n),
      /beyond the .*limit/,
    ],
    ["invalid JSON", () => rawFile("json", "{not json", new Uint8Array()), /not valid JSON/],
    [
      "a header that is not an object",
      () => rawFile("array", "[1,2]", new Uint8Array()),
      /not a JSON object/,
    ],
    [
      "an unknown dtype",
      () => rawFile("dtype", `{"x":${entry("F8", [1], [0, 4])}}`, f32(1)),
      /unknown dtype "F8"/,
    ],
    ["a bad shape", () => rawFile("shape", `{"x":${entry("F32", [-1], [0, 4])}}`, f32(1)), /shape \[-1\]/],
    [
      "offsets out of range",
      () => rawFile("range", `{"x":${entry("F32", [2], [0, 8])}}`, f32(1)),
      /run past the data section/,
    ],
    [
      "overlapping tensors",
      () =>
        rawFile("overlap", `{"x":${entry("F32", [2], [0, 8])},"y":${entry("F32", [1], [4, 8])}}`, f32(1, 2)),
      /overlap/,
    ],
    [
      "a gap in the data",
      () =>
        rawFile("gap", `{"x":${entry("F32", [1], [0, 4])},"y":${entry("F32", [1], [8, 12])}}`, f32(1, 2, 3)),
      /belong to no tensor/,
    ],
    [
      "trailing bytes no tensor covers",
      () => rawFile("trail", `{"x":${entry("F32", [1], [0, 4])}}`, f32(1, 2)),
      /at the end of the data section belong to no tensor/,
    ],
    [
      "shape and byte count disagreeing",
      () => rawFile("count", `{"x":${entry("F32", [3], [0, 8])}}`, f32(1, 2)),
      /needs 12 bytes, data_offsets give 8/,
    ],
    [
      "a lying shape far larger than the file",
      () => rawFile("huge", `{"x":${entry("F32", [1e9, 1e9], [0, 4])}}`, f32(1)),
      /needs .* bytes, data_offsets give 4/,
    ],
    [
      "duplicate names",
      () => rawFile("dup", `{"x":${entry("F32", [1], [0, 4])},"x":${entry("F32", [1], [4, 8])}}`, f32(1, 2)),
      /duplicate tensor name "x"/,
    ],
    [
      "metadata that is not strings",
      () => rawFile("meta", `{"__metadata__":{"a":1},"x":${entry("F32", [1], [0, 4])}}`, f32(1)),
      /__metadata__/,
    ],
  ];
  for (const [what, make, pattern] of cases) {
    it(what, () => {
      const path = make();
      assert.throws(
        () => SafetensorsFile.open(path),
        (e: Error) => e.message.startsWith(path) && pattern.test(e.message),
      );
    });
  }

  it("an I64 value beyond int32 names the tensor", () => {
    const path = join(dir, "i64.safetensors");
    const data = new Uint8Array(new BigInt64Array([2n ** 40n]).buffer);
    rawFile("i64.safetensors", `{"ids":${entry("I64", [1], [0, 8])}}`, data);
    const f = SafetensorsFile.open(path);
    assert.throws(() => f.read("ids"), /"ids".*does not fit int32/);
    f.close();
  });
});
