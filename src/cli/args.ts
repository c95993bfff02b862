/** Parsers for commander options that fail with the flag's name and what it expects. */
export function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} expects a positive integer, got "${value}"`);
    return n;
  };
}

export function nonNegativeInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n) || n < 0)
      throw new Error(`${flag} expects an integer ≥ 0, got "${value}"`);
    return n;
  };
}
