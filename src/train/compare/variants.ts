import { type AdapterConfigInput, METHOD_NAMES } from "../../adapters/index.js";

/** What a comparison row trains: an adapter, only the task head, or every parameter. */
export interface Variant {
  name: string;
  kind: "adapter" | "head" | "full";
  adapter: Partial<AdapterConfigInput>;
}

/**
 * A variant by name: "head" (only the task head trains), "full" (full fine-tuning), or a method
 * ("dora") with ":better" (MoreLoRA's init) or ":tanh"/":sigmoid" (Hadamard activation) and
 * "@k" for rank k instead of the shared r, e.g. "hadamard:tanh", "lora:better", "lora@2".
 */
export function parseVariant(name: string): Variant {
  if (name === "head" || name === "full") return { name, kind: name, adapter: {} };
  const [spec, rank, extra] = name.split("@");
  const [method, option, more] = spec.split(":");
  const bad = (why: string): Error => new Error(`compare: variant "${name}": ${why}`);
  if (!(METHOD_NAMES as readonly string[]).includes(method))
    throw bad(`unknown method "${method}" (${METHOD_NAMES.join(", ")}, head, full)`);
  if (more !== undefined || extra !== undefined) throw bad("expected method[:option][@rank]");
  const adapter: Partial<AdapterConfigInput> = { method: method as AdapterConfigInput["method"] };
  if (option === "better") adapter.init = "better";
  else if (option === "tanh" || option === "sigmoid") adapter.activation = option;
  else if (option !== undefined) throw bad(`unknown option ":${option}" (better, tanh, sigmoid)`);
  if (rank !== undefined) {
    if (!/^[1-9]\d*$/.test(rank)) throw bad(`"@${rank}" is not a positive integer rank`);
    adapter.r = Number(rank);
  }
  return { name, kind: "adapter", adapter };
}

/** The seed papers' methods as morelora compares them. */
export const METHOD_VARIANTS = [
  "lora",
  "dora",
  "moslora",
  "condlora",
  "dylora",
  "additive",
  "hadamard",
  "hadamard:tanh",
  "hadamard-add",
  "loha",
  "lora:better",
  "dora:better",
];

/**
 * The default rows for rank r: every method, the parameter-matched controls (LoHa at r/2 has
 * LoRA's parameter count; LoRA at each rank DyLoRA is read at), head-only and full fine-tuning.
 */
export function defaultVariants(r: number, dyloraRanks: readonly number[]): string[] {
  const half = r >= 2 ? [`loha@${Math.floor(r / 2)}`] : [];
  return [...METHOD_VARIANTS, ...half, ...dyloraRanks.map((k) => `lora@${k}`), "head", "full"];
}

/** The row of a trained DyLoRA read at a lower rank k. */
export const dyloraRankRow = (k: number): string => `dylora (rank ${k})`;

/** The row a row's paired difference is taken against: LoRA with the same rank, DoRA for DoRA's init. */
export function referenceVariant(name: string): string | null {
  if (name === "lora" || name.startsWith("lora@")) return null;
  if (name === "dora:better") return "dora";
  const truncated = /^dylora \(rank (\d+)\)$/.exec(name);
  return truncated ? `lora@${truncated[1]}` : "lora";
}
