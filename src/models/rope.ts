import * as T from "../tensor/index.js";
import type { DType, Tensor } from "../tensor/index.js";
import type { ConfigReader } from "./hf-config.js";

/** RoPE settings of a Llama-family config: rope_theta and rope_scaling (llama3, linear). */
export interface RopeConfig {
  theta: number;
  headDim: number;
  scaling:
    | null
    | { type: "linear"; factor: number }
    | {
        type: "llama3";
        factor: number;
        lowFreqFactor: number;
        highFreqFactor: number;
        originalMaxPositions: number;
      };
}

export function ropeConfigFrom(c: ConfigReader, headDim: number): RopeConfig {
  // transformers 5 writes rope_parameters (rope_theta inside); earlier versions rope_theta and rope_scaling.
  const key = c.has("rope_parameters") ? "rope_parameters" : "rope_scaling";
  const raw = c.raw(key) as Record<string, unknown> | null | undefined;
  const num = (k: string): number => {
    if (typeof raw?.[k] !== "number") throw new Error(`${c.file}: "${key}.${k}" must be a number`);
    return raw[k] as number;
  };
  const theta =
    key === "rope_parameters" && raw?.rope_theta !== undefined
      ? num("rope_theta")
      : c.number("rope_theta", 10000);
  if (!raw) return { theta, headDim, scaling: null };
  const type = raw.rope_type ?? raw.type;
  if (type === "linear") return { theta, headDim, scaling: { type: "linear", factor: num("factor") } };
  if (type === "llama3") {
    return {
      theta,
      headDim,
      scaling: {
        type: "llama3",
        factor: num("factor"),
        lowFreqFactor: num("low_freq_factor"),
        highFreqFactor: num("high_freq_factor"),
        originalMaxPositions: num("original_max_position_embeddings"),
      },
    };
  }
  if (type === "default") return { theta, headDim, scaling: null };
  throw new Error(
    `${c.file}: "${key}" type ${JSON.stringify(type)} is not supported (supported: default, linear, llama3)`,
  );
}

/** The inverse frequencies, with HF's rope_scaling applied (transformers' modeling_rope_utils). */
export function inverseFrequencies({ theta, headDim, scaling }: RopeConfig): Float64Array {
  const half = headDim / 2;
  const inv = Float64Array.from({ length: half }, (_, i) => 1 / theta ** ((2 * i) / headDim));
  if (!scaling) return inv;
  if (scaling.type === "linear") return inv.map((f) => f / scaling.factor);
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions } = scaling;
  const lowWavelen = originalMaxPositions / lowFreqFactor;
  const highWavelen = originalMaxPositions / highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/** cos and sin tables [B, T, 1, headDim] (broadcast over the heads of [B, T, H, headDim]) for position ids [B, T] (HF's halves layout). */
export function ropeTables(
  inv: Float64Array,
  positions: Int32Array,
  batch: number,
  steps: number,
  dtype: DType,
): { cos: Tensor; sin: Tensor } {
  const d = inv.length * 2;
  const cos = T.zeros([batch, steps, 1, d], { dtype });
  const sin = T.zeros([batch, steps, 1, d], { dtype });
  // Rows repeat across the batch: each position's row is computed once and copied after.
  const rowOf = new Map<number, number>();
  for (let p = 0; p < batch * steps; p++) {
    const pos = positions[p];
    const seen = rowOf.get(pos);
    if (seen !== undefined) {
      cos.data.copyWithin(p * d, seen * d, seen * d + d);
      sin.data.copyWithin(p * d, seen * d, seen * d + d);
      continue;
    }
    rowOf.set(pos, p);
    for (let i = 0; i < inv.length; i++) {
      const angle = pos * inv[i];
      const [c, s] = [Math.cos(angle), Math.sin(angle)];
      cos.data[p * d + i] = cos.data[p * d + i + inv.length] = c;
      sin.data[p * d + i] = sin.data[p * d + i + inv.length] = s;
    }
  }
  return { cos, sin };
}
