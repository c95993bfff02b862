import { activationNames, activationByName } from "../nn/index.js";

/** Reading HuggingFace config.json fields with errors that name the file, the key and what was expected. */
export class ConfigReader {
  /** `overridden`: keys whose values came from outside the file (loadModel's config, --model-config). */
  constructor(
    private readonly json: Record<string, unknown>,
    readonly file: string,
    private readonly overridden: ReadonlySet<string> = new Set(),
  ) {}

  private fail(key: string, expected: string): never {
    const where = this.overridden.has(key) ? `${this.file} (as overridden)` : this.file;
    throw new Error(`${where}: "${key}" ${expected}, got ${JSON.stringify(this.json[key])}`);
  }

  has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  int(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (!Number.isInteger(v) || (v as number) < 0) this.fail(key, "must be a non-negative integer");
    return v as number;
  }

  number(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(key, "must be a number");
    return v;
  }

  /** A dropout probability: a number in [0, 1). */
  probability(key: string, fallback: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== "number" || !(v >= 0 && v < 1)) this.fail(key, "must be a probability in [0, 1)");
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.json[key] ?? fallback;
    if (typeof v !== "boolean") this.fail(key, "must be true or false");
    return v;
  }

  string(key: string, fallback?: string): string {
    const v = this.json[key] ?? fallback;
    if (typeof v !== "string") this.fail(key, "must be a string");
    return v;
  }

  /** num_labels, or the size of id2label, or HF's default of 2. */
  numLabels(): number {
    this.only("problem_type", ["single_label_classification"], "classification trains with cross-entropy");
    const id2label = this.json.id2label;
    const labels = this.has("num_labels")
      ? this.int("num_labels")
      : id2label && typeof id2label === "object"
        ? Object.keys(id2label).length
        : 2;
    // With one label transformers regresses (MSE loss) instead of classifying.
    if (labels < 2)
      this.fail(this.has("num_labels") ? "num_labels" : "id2label", "must give at least 2 labels");
    return labels;
  }

  /** The name of one of transformers' activations (ACT2FN) that morelora implements. */
  activation(key: string, fallback: string): string {
    const name = this.string(key, fallback);
    if (!activationByName(name))
      this.fail(key, `must name an activation morelora implements (${activationNames().join(", ")})`);
    return name;
  }

  /**
   * Stops the load when a field that changes the computation asks for something morelora does
   * not implement: the field may be absent or hold one of the values it does implement.
   */
  only(key: string, implemented: readonly unknown[], what: string): void {
    if (!this.has(key)) return;
    const v = this.json[key];
    const same = (a: unknown): boolean => JSON.stringify(a) === JSON.stringify(v);
    if (!implemented.some(same)) this.fail(key, `is not implemented by morelora (${what})`);
  }

  raw(key: string): unknown {
    return this.json[key];
  }
}
