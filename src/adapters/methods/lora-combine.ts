import * as T from "../../tensor/index.js";
import { noGrad, type Tensor } from "../../tensor/index.js";
import type { PeftModel } from "../peft-model.js";

/**
 * A new LoRA adapter from LoRA adapters, as PEFT's add_weighted_adapter: "linear" sums
 * √(wᵢ sᵢ)·Aᵢ and √(wᵢ sᵢ)·Bᵢ (equal ranks), "cat" stacks wᵢ sᵢ·Aᵢ and Bᵢ (rank Σ rᵢ); scale 1.
 * Only plain LoRA factors combine this way, so this lives beside the LoRA method.
 */
export function combineLoraAdapters(
  peft: PeftModel,
  names: string[],
  weights: number[],
  type: "linear" | "cat",
  newName: string,
): void {
  if (names.length === 0 || names.length !== weights.length) {
    throw new Error("combineAdapters: give one weight per adapter name, at least one");
  }
  const configs = names.map((n) => peft.config(n));
  for (const [i, c] of configs.entries()) {
    if (c.method !== "lora" || c.init === "better") {
      throw new Error(
        `combineAdapters: "${names[i]}" is ${c.method}${c.init === "better" ? " with better init" : ""}; only plain LoRA adapters combine`,
      );
    }
  }
  const layers = peft.layers().filter(([, l]) => names.some((n) => l.adapter(n)));
  const parts = layers.map(([path, layer]) => ({
    path,
    layer,
    terms: names.flatMap((n, i) => {
      const a = layer.adapter(n);
      return a ? [{ a: a.tensors, scale: a.ctx.scale, r: a.ctx.r, w: weights[i] }] : [];
    }),
  }));
  const rankOf = (terms: { r: number }[]): number =>
    type === "cat" ? terms.reduce((s, t) => s + t.r, 0) : terms[0].r;
  for (const { path, terms } of parts) {
    if (type === "linear" && terms.some((t) => t.r !== terms[0].r)) {
      throw new Error(`combineAdapters "linear": ranks differ at ${path}; use "cat"`);
    }
  }
  const rankPattern = Object.fromEntries(
    parts.map(({ path, terms }) => [path.replace(/[.]/g, "\\."), rankOf(terms)]),
  );
  peft.addAdapter(newName, {
    method: "lora",
    r: rankOf(parts[0].terms),
    alpha: 1,
    useRslora: false,
    targetModules: parts.map(({ path }) => path),
    rankPattern,
    alphaPattern: rankPattern,
  });
  noGrad(() => {
    for (const { layer, terms } of parts) {
      const target = layer.adapter(newName)!.tensors;
      const [aName, bName] = [...target.keys()];
      const pick = (t: ReadonlyMap<string, Tensor>, which: 0 | 1): Tensor => [...t.values()][which];
      let a: Tensor;
      let b: Tensor;
      if (type === "linear") {
        const f = terms.map((t) => Math.sqrt(t.w * t.scale));
        a = terms.map((t, i) => T.mulScalar(pick(t.a, 0), f[i])).reduce((x, y) => T.add(x, y));
        b = terms.map((t, i) => T.mulScalar(pick(t.a, 1), f[i])).reduce((x, y) => T.add(x, y));
      } else {
        a = T.concat(
          terms.map((t) => T.mulScalar(pick(t.a, 0), t.w * t.scale)),
          0,
        );
        b = T.concat(
          terms.map((t) => pick(t.a, 1)),
          1,
        );
      }
      target.get(aName)!.floatData.set(a.floatData);
      target.get(bName)!.floatData.set(b.floatData);
    }
  });
}
