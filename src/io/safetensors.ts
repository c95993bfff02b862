import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { allocate, formatShape, type Storage, Tensor } from "../tensor/index.js";
import { writeFileAtomic } from "./atomic.js";
import {
  bf16ToFloat,
  floatToBf16,
  floatToHalf,
  halfToFloat,
  ITEM_SIZE,
  isSafetensorsDType,
  loadedDType,
  type SafetensorsDType,
  storedDType,
} from "./dtypes.js";
import { topLevelKeys } from "./json-keys.js";

export type { SafetensorsDType } from "./dtypes.js";

/** The safetensors reference implementation refuses headers above 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range inside the data section (after the header). */
  begin: number;
  end: number;
}

export class SafetensorsError extends Error {
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = "SafetensorsError";
  }
}

interface ParsedHeader {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

function parseEntry(name: string, raw: unknown, fail: (p: string) => never): TensorInfo {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    fail(`tensor "${name}": entry is not an object`);
  const e = raw as Record<string, unknown>;
  if (!isSafetensorsDType(e.dtype)) fail(`tensor "${name}": unknown dtype ${JSON.stringify(e.dtype)}`);
  const dtype = e.dtype as SafetensorsDType;
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor "${name}": data_offsets ${JSON.stringify(offs)} is not a pair of non-negative integers`);
  }
  const [begin, end] = offs as number[];
  if (end < begin) fail(`tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`);
  // The product can overflow for a lying shape; compare in floating point, which only grows.
  const bytes = (shape as number[]).reduce((n, d) => n * d, ITEM_SIZE[dtype]);
  if (bytes !== end - begin) {
    fail(
      `tensor "${name}": shape ${formatShape(shape as number[])} of ${dtype} needs ${bytes} bytes, data_offsets give ${end - begin}`,
    );
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** Validates a header's JSON against the size of the data section that follows it. */
export function parseHeader(path: string, json: string, dataBytes: number): ParsedHeader {
  const fail = (problem: string): never => {
    throw new SafetensorsError(path, problem);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("header is not a JSON object");
  const keys = topLevelKeys(json);
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) fail(`duplicate tensor name "${k}" in header`);
    seen.add(k);
  }
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === "__metadata__") {
      const ok =
        typeof value === "object" &&
        value !== null &&
        !Array.isArray(value) &&
        Object.values(value).every((v) => typeof v === "string");
      if (!ok) fail("__metadata__ must be an object of strings");
      metadata = value as Record<string, string>;
      continue;
    }
    tensors.set(name, parseEntry(name, value, fail));
  }
  const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const t of sorted) {
    if (t.end > dataBytes) {
      fail(
        `tensor "${t.name}": data_offsets [${t.begin}, ${t.end}] run past the data section of ${dataBytes} bytes`,
      );
    }
    if (t.begin < at)
      fail(`tensor "${t.name}": data_offsets [${t.begin}, ${t.end}] overlap the previous tensor`);
    if (t.begin > at) fail(`bytes ${at}..${t.begin} of the data section belong to no tensor`);
    at = t.end;
  }
  if (at !== dataBytes) fail(`bytes ${at}..${dataBytes} at the end of the data section belong to no tensor`);
  return { tensors, metadata };
}

/**
 * A safetensors file opened for lazy reading: the header is read and validated at open, each
 * tensor's bytes only when asked for.
 */
export class SafetensorsFile {
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  private fd: number | null;
  private readonly dataStart: number;

  private constructor(
    readonly path: string,
    fd: number,
    header: ParsedHeader,
    dataStart: number,
  ) {
    this.fd = fd;
    this.tensors = header.tensors;
    this.metadata = header.metadata;
    this.dataStart = dataStart;
  }

  static open(path: string): SafetensorsFile {
    const fd = openSync(path, "r");
    try {
      const size = fstatSync(fd).size;
      if (size < 8)
        throw new SafetensorsError(path, `file of ${size} bytes is too short for the 8-byte header length`);
      const lenBuf = Buffer.alloc(8);
      readSync(fd, lenBuf, 0, 8, 0);
      const headerLen = lenBuf.readBigUInt64LE(0);
      if (headerLen > BigInt(MAX_HEADER_BYTES)) {
        throw new SafetensorsError(
          path,
          `header length ${headerLen} is beyond the ${MAX_HEADER_BYTES}-byte limit`,
        );
      }
      const n = Number(headerLen);
      if (n > size - 8)
        throw new SafetensorsError(path, `header length ${n} runs past the end of the ${size}-byte file`);
      const headerBuf = Buffer.alloc(n);
      readSync(fd, headerBuf, 0, n, 8);
      const header = parseHeader(path, headerBuf.toString("utf8"), size - 8 - n);
      return new SafetensorsFile(path, fd, header, 8 + n);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new SafetensorsError(this.path, `no tensor named "${name}"`);
    return t;
  }

  /** The stored bytes of one tensor. */
  readBytes(name: string): Uint8Array {
    if (this.fd === null) throw new SafetensorsError(this.path, "file is closed");
    const t = this.info(name);
    const out = new Uint8Array(t.end - t.begin);
    let done = 0;
    while (done < out.length) {
      const got = readSync(this.fd, out, done, out.length - done, this.dataStart + t.begin + done);
      if (got === 0)
        throw new SafetensorsError(this.path, `tensor "${name}" ends early: the file was truncated`);
      done += got;
    }
    return out;
  }

  /** One tensor as float32 (F32/F16/BF16), float64 (F64) or int32 (integer and bool types). */
  read(name: string): Tensor {
    const t = this.info(name);
    return new Tensor(decode(this.path, t, this.readBytes(name)), t.shape);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function decode(path: string, t: TensorInfo, bytes: Uint8Array): Storage {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / ITEM_SIZE[t.dtype];
  const out = allocate(loadedDType(t.dtype), n);
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case "F64":
        out[i] = dv.getFloat64(i * 8, true);
        break;
      case "F32":
        out[i] = dv.getFloat32(i * 4, true);
        break;
      case "F16":
        out[i] = halfToFloat(dv.getUint16(i * 2, true));
        break;
      case "BF16":
        out[i] = bf16ToFloat(dv.getUint16(i * 2, true));
        break;
      case "I64": {
        const v = dv.getBigInt64(i * 8, true);
        if (v < -2147483648n || v > 2147483647n) {
          throw new SafetensorsError(path, `tensor "${t.name}": I64 value ${v} at ${i} does not fit int32`);
        }
        out[i] = Number(v);
        break;
      }
      case "I32":
        out[i] = dv.getInt32(i * 4, true);
        break;
      case "I16":
        out[i] = dv.getInt16(i * 2, true);
        break;
      case "I8":
        out[i] = dv.getInt8(i);
        break;
      case "U8":
      case "BOOL":
        out[i] = dv.getUint8(i);
        break;
    }
  }
  return out;
}

function encode(dtype: SafetensorsDType, values: ArrayLike<number>): Uint8Array {
  const size = ITEM_SIZE[dtype];
  const bytes = new Uint8Array(values.length * size);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    switch (dtype) {
      case "F64":
        dv.setFloat64(i * 8, v, true);
        break;
      case "F32":
        dv.setFloat32(i * 4, v, true);
        break;
      case "F16":
        dv.setUint16(i * 2, floatToHalf(v), true);
        break;
      case "BF16":
        dv.setUint16(i * 2, floatToBf16(v), true);
        break;
      case "I64":
        dv.setBigInt64(i * 8, BigInt(Math.trunc(v)), true);
        break;
      case "I32":
        dv.setInt32(i * 4, v, true);
        break;
      case "I16":
        dv.setInt16(i * 2, v, true);
        break;
      case "I8":
        dv.setInt8(i, v);
        break;
      case "U8":
        dv.setUint8(i, v);
        break;
      case "BOOL":
        dv.setUint8(i, v ? 1 : 0);
        break;
    }
  }
  return bytes;
}

/** A tensor to write, optionally stored in another dtype (e.g. float32 data written as BF16). */
export interface TensorToWrite {
  tensor: Tensor;
  dtype: SafetensorsDType;
}

/** Serializes tensors (in the given order) and metadata to the bytes of a safetensors file. */
export function encodeSafetensors(
  tensors: Iterable<[string, Tensor | TensorToWrite]>,
  metadata?: Record<string, string>,
): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const [name, value] of tensors) {
    if (name === "__metadata__" || Object.hasOwn(header, name))
      throw new Error(`tensor name "${name}" is reserved or repeated`);
    const t = value instanceof Tensor ? value : value.tensor;
    // A weight kept in half precision is written in its own format unless told otherwise.
    const own: SafetensorsDType | null = t.half ? (t.half === "bfloat16" ? "BF16" : "F16") : null;
    const dtype = value instanceof Tensor ? (own ?? storedDType(t.dtype)) : value.dtype;
    if (!isSafetensorsDType(dtype)) throw new Error(`tensor "${name}": unknown safetensors dtype "${dtype}"`);
    const bytes =
      (dtype === "F32" && t.data instanceof Float32Array) || dtype === own
        ? new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength))
        : encode(dtype, own ? t.to("float32").data : t.data);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [at, at + bytes.byteLength] };
    chunks.push(bytes);
    at += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  json += " ".repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.byteLength));
  return [len, headerBytes, ...chunks];
}

/** Writes a safetensors file atomically. */
export function saveSafetensors(
  path: string,
  tensors: Iterable<[string, Tensor | TensorToWrite]> | Record<string, Tensor | TensorToWrite>,
  metadata?: Record<string, string>,
): void {
  const entries = Symbol.iterator in tensors ? tensors : Object.entries(tensors);
  writeFileAtomic(path, encodeSafetensors(entries as Iterable<[string, Tensor | TensorToWrite]>, metadata));
}

/** Reads every tensor of a file. */
export function loadSafetensors(path: string): Map<string, Tensor> {
  const f = SafetensorsFile.open(path);
  try {
    return new Map(f.names().map((n) => [n, f.read(n)]));
  } finally {
    f.close();
  }
}
