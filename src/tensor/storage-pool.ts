import type { DType, Storage } from "./tensor.js";

/**
 * Recycled tensor storage (docs/memory.md, "Recycled gradient storage"). Every op writes a fresh
 * output, and a step's ArrayBuffers (hundreds of MB) made V8 run several full collections per
 * step on "external memory pressure". The backward hands the buffers of the gradients it has
 * consumed back here, and `empty()` gives them out again to the rest of that backward. Only a
 * buffer that the running backward made and that nothing else can reach is recycled: that proof
 * is `backward()`'s (src/tensor/autograd.ts); this module keeps the lists.
 */

const free = new Map<string, Storage[]>();
let enabled = true;
/**
 * Buffers smaller than this are left to the collector, which they cost little, and empty() gives
 * them out zeroed; larger ones are recycled here, or allocated uninitialised.
 */
export const SMALL_BUFFER_BYTES = 1 << 16;
let minBytes = SMALL_BUFFER_BYTES;
/** What recyclingCounts() reports. */
const counts = { recycled: 0, reused: 0 };
/** Nesting of running backward() calls (a checkpointed block's backward runs inside another). */
let depth = 0;
/** Buffers given out by empty() while a backward runs: the only ones it may recycle. */
let made = new WeakSet<ArrayBuffer>();
/** How many of the running backward's pending gradients use each buffer. */
const uses = new Map<ArrayBuffer, number>();

function key(dtype: DType, size: number): string {
  return `${dtype}:${size}`;
}

/**
 * Turns recycling on or off (tests compare both, and recycle buffers of every size to reach the
 * small tensors of their cases); either way the lists are emptied.
 */
export function setStoragePooling(on: boolean, options: { minBytes?: number } = {}): void {
  enabled = on;
  minBytes = options.minBytes ?? SMALL_BUFFER_BYTES;
  free.clear();
  counts.recycled = counts.reused = 0;
}

/** Buffers returned to the lists and buffers given out again, since recycling was last set. */
export function recyclingCounts(): { recycled: number; reused: number } {
  return { ...counts };
}

/** A recycled buffer of this dtype and length, or null. */
export function takeStorage(dtype: DType, size: number): Storage | null {
  const data = enabled ? (free.get(key(dtype, size))?.pop() ?? null) : null;
  if (data) counts.reused++;
  return data;
}

/** Called by empty() for every buffer it gives out: one made during a backward is that backward's. */
export function noteMade(data: Storage): void {
  if (depth > 0 && data.byteLength >= minBytes) made.add(data.buffer as ArrayBuffer);
}

export function beginBackward(): void {
  depth++;
}

/**
 * Ends a backward; the outermost empties the lists. Keeping them for the next forward made fewer
 * new buffers still, but held them at the peak of the step (docs/performance.md).
 */
export function endBackward(): void {
  if (--depth > 0) return;
  made = new WeakSet();
  uses.clear();
  free.clear();
}

/** Counts one more pending gradient on this buffer. */
export function use(data: Storage): void {
  const b = data.buffer as ArrayBuffer;
  uses.set(b, (uses.get(b) ?? 0) + 1);
}

/** Counts one pending gradient less on this buffer. */
export function unuse(data: Storage): void {
  const b = data.buffer as ArrayBuffer;
  const n = (uses.get(b) ?? 0) - 1;
  if (n > 0) uses.set(b, n);
  else uses.delete(b);
}

/**
 * Whether the running backward made this buffer and no pending gradient but `pending` (0 or 1 of
 * them) uses it: then nothing outside the backward can see it, and it may write into it or free it.
 */
export function owns(data: Storage, pending: 0 | 1): boolean {
  const b = data.buffer as ArrayBuffer;
  return enabled && made.has(b) && (uses.get(b) ?? 0) === pending;
}

/** Takes the buffer out of the backward's hands: it now belongs to a leaf's .grad. */
export function disown(data: Storage): void {
  made.delete(data.buffer as ArrayBuffer);
}

/**
 * Returns a consumed gradient's buffer to the lists if the backward owns it and no pending
 * gradient uses it. Only whole buffers go back (a view of part of one is left to the collector).
 */
export function recycle(data: Storage): void {
  if (!owns(data, 0) || data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) return;
  made.delete(data.buffer as ArrayBuffer); // freed once, even if several consumed tensors share it
  const k = key(dtypeName(data), data.length);
  const list = free.get(k);
  if (list) list.push(data);
  else free.set(k, [data]);
  counts.recycled++;
}

function dtypeName(data: Storage): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  return "int32";
}
