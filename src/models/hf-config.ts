/** Reading HuggingFace config.json fields with errors that name the file, the key and what was expected. */
export class ConfigReader {
  constructor(
    private readonly json: Record<string, unknown>,
    readonly file: string,
  ) {}

  private fail(key: string, expected: string): never {
    throw new Error(`${this.file}: "${key}" ${expected}, got ${JSON.stringify(this.json[key])}`);
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
    if (this.has("num_labels")) return this.int("num_labels");
    const id2label = this.json.id2label;
    return id2label && typeof id2label === "object" ? Object.keys(id2label).length : 2;
  }

  raw(key: string): unknown {
    return this.json[key];
  }
}
