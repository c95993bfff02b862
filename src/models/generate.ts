import { Generator, noGrad, type Tensor } from "../tensor/index.js";
import * as T from "../tensor/index.js";
import type { DecoderInput, KvCache } from "./causal-lm.js";

/** What generation needs of a model: logits for ids, optionally continuing a KV cache. */
export interface Generative {
  forward(ids: Tensor, input?: DecoderInput): Tensor;
  newCache(): KvCache;
}

export interface GenerateOptions {
  maxNewTokens?: number;
  /** 0 (the default) picks the most likely token; above 0 samples from softmax(logits / temperature). */
  temperature?: number;
  /** Sample among the k most likely tokens only. */
  topK?: number;
  /** Sample among the smallest set of tokens whose probability reaches p. */
  topP?: number;
  /** Token ids that end generation (kept in the output). */
  stopTokens?: readonly number[];
  /** HF's repetition penalty: logits of tokens already in the sequence are divided by it (multiplied if negative). */
  repetitionPenalty?: number;
  /** Ends generation when it returns true for the tokens produced so far (e.g. a stop string appeared). */
  stopWhen?: (produced: readonly number[]) => boolean;
  seed?: number;
  /** Recompute the whole sequence each step instead of using the KV cache (for checking the cache). */
  useCache?: boolean;
  /** Called with each new token as soon as it is chosen. */
  onToken?: (id: number) => void;
}

/**
 * transformers' RepetitionPenaltyLogitsProcessor: each token already in `seen` has its logit
 * divided by `penalty` when positive and multiplied by it when negative (a copy is returned).
 */
export function penalizeRepetition(
  logits: ArrayLike<number>,
  seen: Iterable<number>,
  penalty: number,
): Float64Array {
  const out = Float64Array.from(logits);
  for (const id of new Set(seen)) out[id] = out[id] < 0 ? out[id] * penalty : out[id] / penalty;
  return out;
}

/** The most likely token of one row of logits (the first of equals). */
function mostLikely(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** Picks the next token from one row of logits. */
export function pickToken(
  logits: ArrayLike<number>,
  { temperature = 0, topK = 0, topP = 1 }: GenerateOptions,
  rng: Generator,
): number {
  const best = mostLikely(logits);
  if (temperature <= 0) return best;
  const order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a]);
  const kept = topK > 0 ? order.slice(0, topK) : order;
  const weights = kept.map((i) => Math.exp((logits[i] - logits[best]) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let cut = kept.length;
  if (topP < 1) {
    let mass = 0;
    cut = kept.findIndex((_, j) => (mass += weights[j] / total) >= topP) + 1 || kept.length;
  }
  const z = weights.slice(0, cut).reduce((a, b) => a + b, 0);
  let u = rng.uniform() * z;
  for (let j = 0; j < cut; j++) {
    u -= weights[j];
    if (u <= 0) return kept[j];
  }
  return kept[cut - 1];
}

/** Continues a prompt; returns the new token ids. Seeded: the same options give the same tokens. */
export function generate(
  model: Generative,
  prompt: readonly number[],
  options: GenerateOptions = {},
): number[] {
  const {
    maxNewTokens = 32,
    stopTokens = [],
    seed = 0,
    useCache = true,
    onToken,
    repetitionPenalty = 1,
  } = options;
  if (prompt.length === 0) throw new Error("generate: the prompt has no tokens");
  const rng = new Generator(seed);
  const stop = new Set(stopTokens);
  const out: number[] = [];
  return noGrad(() => {
    const cache = useCache ? model.newCache() : null;
    let input = [...prompt];
    for (let step = 0; step < maxNewTokens; step++) {
      const ids = T.tensor([input], { dtype: "int32" });
      const logits = model.forward(ids, { cache });
      const vocab = logits.shape[2];
      const last = logits.data.subarray((input.length - 1) * vocab, input.length * vocab);
      const scored =
        repetitionPenalty === 1 ? last : penalizeRepetition(last, [...prompt, ...out], repetitionPenalty);
      const next = pickToken(scored, options, rng);
      out.push(next);
      onToken?.(next);
      if (stop.has(next) || options.stopWhen?.(out)) break;
      input = useCache ? [next] : [...input, next];
    }
    return out;
  });
}

/**
 * Greedy continuations of several prompts of one length at once: one forward per step for all of
 * them, over one KV cache. Row i ends at its first stop token or after maxNewTokens[i] tokens;
 * each row is what generate() gives its prompt alone at temperature 0, for a fraction of the
 * forwards (the products differ only in how many rows they multiply).
 */
export function greedyBatch(
  model: Generative,
  prompts: readonly (readonly number[])[],
  maxNewTokens: readonly number[],
  stopTokens: readonly number[] = [],
): number[][] {
  const length = prompts[0]?.length ?? 0;
  if (length === 0 || prompts.some((p) => p.length !== length))
    throw new Error("greedyBatch: the prompts must be non-empty and of one length");
  const stop = new Set(stopTokens);
  const out = prompts.map((): number[] => []);
  const open = out.map((_, i) => maxNewTokens[i] > 0);
  return noGrad(() => {
    const cache = model.newCache();
    let ids = T.tensor(
      prompts.map((p) => [...p]),
      { dtype: "int32" },
    );
    while (open.some(Boolean)) {
      const logits = model.forward(ids, { cache });
      const [, steps, vocab] = logits.shape;
      const next = out.map((row, i) => {
        const at = (i * steps + steps - 1) * vocab;
        const token = mostLikely(logits.data.subarray(at, at + vocab));
        if (!open[i]) return token;
        row.push(token);
        if (stop.has(token) || row.length >= maxNewTokens[i]) open[i] = false;
        return token;
      });
      ids = T.tensor(
        next.map((t) => [t]),
        { dtype: "int32" },
      );
    }
    return out;
  });
}
