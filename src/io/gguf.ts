import { writeFileAtomicWith } from "./atomic.js";
import { encodeGgml, GGML_TYPES, type GgmlType, ggmlByteLength } from "./ggml-types.js";

/**
 * A GGUF (version 3) writer: the container llama.cpp loads (docs/export.md). No npm package
 * writes GGUF files with tensors (@huggingface/gguf reads them and rewrites metadata only), so
 * the container is written here and the tests read it back with @huggingface/gguf.
 */

/** GGUF metadata value types (gguf_type). */
const VALUE_TYPE = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

type Scalar = "uint32" | "int32" | "float32" | "bool" | "string";

export type GgufValue =
  | { type: "uint32" | "int32" | "float32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "array"; itemType: Scalar; value: readonly (number | boolean | string)[] };

/** Shorthands for metadata values. */
export const gguf = {
  u32: (value: number): GgufValue => ({ type: "uint32", value }),
  i32: (value: number): GgufValue => ({ type: "int32", value }),
  f32: (value: number): GgufValue => ({ type: "float32", value }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  str: (value: string): GgufValue => ({ type: "string", value }),
  strings: (value: readonly string[]): GgufValue => ({ type: "array", itemType: "string", value }),
  i32s: (value: readonly number[]): GgufValue => ({ type: "array", itemType: "int32", value }),
  f32s: (value: readonly number[]): GgufValue => ({ type: "array", itemType: "float32", value }),
};

/** A tensor to write: its shape outermost dimension first (PyTorch's order) and float values. */
export interface GgufTensor {
  name: string;
  shape: readonly number[];
  type: GgmlType;
  /** Called once, when the tensor's bytes are written, so values need not all be held at once. */
  values: () => ArrayLike<number>;
}

export const GGUF_ALIGNMENT = 32;
const pad = (n: number): number => Math.ceil(n / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;

/** Little-endian byte sink for the header. */
class Bytes {
  private parts: Uint8Array[] = [];
  length = 0;

  private put(size: number, set: (v: DataView) => void): void {
    const b = new Uint8Array(size);
    set(new DataView(b.buffer));
    this.raw(b);
  }

  raw(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.byteLength;
  }

  u32 = (x: number): void => this.put(4, (v) => v.setUint32(0, x, true));
  i32 = (x: number): void => this.put(4, (v) => v.setInt32(0, x, true));
  f32 = (x: number): void => this.put(4, (v) => v.setFloat32(0, x, true));
  u64 = (x: number): void => this.put(8, (v) => v.setBigUint64(0, BigInt(x), true));
  bool = (x: boolean): void => this.put(1, (v) => v.setUint8(0, x ? 1 : 0));
  str = (s: string): void => {
    const b = Buffer.from(s, "utf8");
    this.u64(b.byteLength);
    this.raw(b);
  };

  scalar(type: Scalar, x: number | boolean | string): void {
    if (type === "string") this.str(x as string);
    else if (type === "bool") this.bool(x as boolean);
    else this[type === "uint32" ? "u32" : type === "int32" ? "i32" : "f32"](x as number);
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.parts, this.length);
  }
}

function checkValue(key: string, v: GgufValue): void {
  const ok = (type: Scalar, x: unknown): boolean =>
    type === "string"
      ? typeof x === "string"
      : type === "bool"
        ? typeof x === "boolean"
        : typeof x === "number" &&
          (type === "float32" ||
            (Number.isInteger(x) && (type === "int32" ? Math.abs(x) < 2 ** 31 : x >= 0 && x < 2 ** 32)));
  const fits = v.type === "array" ? v.value.every((x) => ok(v.itemType, x)) : ok(v.type, v.value);
  if (!fits) throw new Error(`GGUF metadata "${key}": a value does not fit its type ${v.type}`);
}

/**
 * Writes a GGUF file atomically: header, metadata, tensor infos, then each tensor's data at an
 * offset aligned to 32 bytes. Tensor values are encoded one tensor at a time.
 */
export function writeGguf(
  path: string,
  metadata: ReadonlyMap<string, GgufValue>,
  tensors: readonly GgufTensor[],
): void {
  const names = new Set<string>();
  const head = new Bytes();
  head.raw(Buffer.from("GGUF", "ascii"));
  head.u32(3);
  head.u64(tensors.length);
  head.u64(metadata.size);
  for (const [key, v] of metadata) {
    checkValue(key, v);
    head.str(key);
    head.u32(VALUE_TYPE[v.type]);
    if (v.type === "array") {
      head.u32(VALUE_TYPE[v.itemType]);
      head.u64(v.value.length);
      for (const x of v.value) head.scalar(v.itemType, x);
    } else head.scalar(v.type, v.value);
  }
  let offset = 0;
  const sizes = tensors.map((t) => {
    if (names.has(t.name)) throw new Error(`GGUF tensor "${t.name}" is written twice`);
    names.add(t.name);
    const size = ggmlByteLength(t.type, t.shape);
    head.str(t.name);
    head.u32(t.shape.length);
    // GGUF lists dimensions innermost first (ggml's ne[0] is the row length).
    for (const d of [...t.shape].reverse()) head.u64(d);
    head.u32(GGML_TYPES[t.type].id);
    head.u64(offset);
    offset += pad(size);
    return size;
  });
  writeFileAtomicWith(path, (write) => {
    write(head.bytes());
    write(new Uint8Array(pad(head.length) - head.length));
    tensors.forEach((t, i) => {
      const values = t.values();
      const count = t.shape.reduce((a, b) => a * b, 1);
      if (values.length !== count)
        throw new Error(`GGUF tensor "${t.name}": ${values.length} values for a shape of ${count}`);
      write(encodeGgml(t.type, values, t.shape));
      write(new Uint8Array(pad(sizes[i]) - sizes[i]));
    });
  });
}
