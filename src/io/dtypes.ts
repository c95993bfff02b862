import { decodeHalf, type DType, encodeHalf } from "../tensor/index.js";

/** The dtypes of the safetensors format that morelora reads and writes. */
export type SafetensorsDType = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

export const ITEM_SIZE: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export function isSafetensorsDType(s: unknown): s is SafetensorsDType {
  return typeof s === "string" && Object.hasOwn(ITEM_SIZE, s);
}

/** The tensor dtype a stored dtype loads as: halves widen to float32, integers to int32. */
export function loadedDType(d: SafetensorsDType): DType {
  if (d === "F64") return "float64";
  if (d === "F32" || d === "F16" || d === "BF16") return "float32";
  return "int32";
}

/** The stored dtype a tensor is written as, unless told otherwise. */
export function storedDType(d: DType): SafetensorsDType {
  return d === "float64" ? "F64" : d === "float32" ? "F32" : "I32";
}

const word = new Uint16Array(1);
const value = new Float32Array(1);

function decodeWord(format: "bfloat16" | "float16", h: number): number {
  word[0] = h;
  decodeHalf(format, word, 0, 1, value, 0);
  return value[0];
}

/** IEEE half to float. */
export const halfToFloat = (h: number): number => decodeWord("float16", h);

/** Float to IEEE half, rounding to nearest even (as torch's .half()). */
export const floatToHalf = (x: number): number => encodeHalf("float16", x);

export const bf16ToFloat = (h: number): number => decodeWord("bfloat16", h);

/** Float to bfloat16, rounding to nearest even. */
export const floatToBf16 = (x: number): number => encodeHalf("bfloat16", x);
