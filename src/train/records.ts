import { createReadStream, existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { parse } from "csv-parse";

export type DataRecord = Record<string, unknown>;

/**
 * The records of a JSONL or CSV file (by extension), streamed one at a time with their line
 * numbers; a malformed line is an error naming the file and line.
 */
export async function* readRecords(path: string): AsyncGenerator<{ record: DataRecord; line: number }> {
  if (!existsSync(path)) throw new Error(`${path}: file not found`);
  if (path.endsWith(".csv")) {
    const parser = createReadStream(path).pipe(
      parse({ columns: true, info: true, skip_empty_lines: true, bom: true }),
    );
    try {
      for await (const row of parser as AsyncIterable<{ record: DataRecord; info: { lines: number } }>) {
        yield { record: row.record, line: row.info.lines };
      }
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`);
    }
    return;
  }
  if (!path.endsWith(".jsonl") && !path.endsWith(".json"))
    throw new Error(`${path}: expected a .jsonl or .csv file`);
  const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
  let line = 0;
  for await (const raw of lines) {
    line++;
    // A UTF-8 byte-order mark (Windows editors write one) is not part of the first record.
    const text = line === 1 && raw.startsWith("\uFEFF") ? raw.slice(1) : raw;
    if (text.trim() === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (e) {
      throw new Error(`${path}:${line}: invalid JSON (${(e as Error).message})`);
    }
    if (typeof record !== "object" || record === null || Array.isArray(record))
      throw new Error(`${path}:${line}: expected a JSON object`);
    yield { record: record as DataRecord, line };
  }
}

/** A string field of a record, or an error naming the file, line and field. */
export function textField(record: DataRecord, field: string, where: string): string {
  const v = record[field];
  if (typeof v !== "string") {
    const have = Object.keys(record).join(", ");
    throw new Error(
      `${where}: field "${field}" must be a string, got ${JSON.stringify(v)} (fields: ${have})`,
    );
  }
  return v;
}
