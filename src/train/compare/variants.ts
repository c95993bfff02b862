import { type AdapterConfigInput, methodNamed } from "../../adapters/index.js";

/** What a comparison row trains: an adapter, only the task head, or every parameter. */
export interface Variant {
  name: string;
  kind: "adapter" | "head" | "full";
  adapter: Partial<AdapterConfigInput>;
}

/**
 * A variant by name: "head" (only the task head trains), "full" (full fine-tuning), or a method
 * ("dora") with ":better" (MoreLoRA's init) or ":<value>" of one of the method's options
 * (Hadamard's activation, ":tanh"), and "@k" for rank k instead of the shared r, e.g.
 * "hadamard:tanh", "lora:better", "lora@2".
 *
 * Train's and demo's --method take the same grammar (without head and full); `where` names the
 * flag in their errors.
 */
export function parseVariant(name: string, where?: string): Variant {
  if (!where && (name === "head" || name === "full")) return { name, kind: name, adapter: {} };
  const bad = (why: string): Error => new Error(`${where ?? `compare: variant "${name}"`}: ${why}`);
  const [spec, rank, extra] = name.split("@");
  const [methodName, value, more] = spec.split(":");
  if (more !== undefined || extra !== undefined) throw bad("expected method[:option][@rank]");
  const method = methodNamed(methodName, where ?? `compare: variant "${name}" (or head, full)`);
  const adapter: Partial<AdapterConfigInput> = { method: method.name };
  if (value === "better") adapter.init = "better";
  else if (value !== undefined) {
    const option = method.options?.find((o) => o.values?.includes(value));
    const values = ["better", ...(method.options ?? []).flatMap((o) => o.values ?? [])];
    if (!option) throw bad(`unknown option ":${value}" (${values.join(", ")})`);
    Object.assign(adapter, { [option.key]: value });
  }
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
