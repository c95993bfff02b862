import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { HFTokenizer } from "../../src/models/index.js";
import { loadExamples } from "../../src/train/index.js";
import { tinyLlamaFolder } from "../support/hf-folders.js";

const WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran"];
const dir = tinyLlamaFolder(WORDS, 3, 0.3);
const tok = HFTokenizer.load(dir);
const lm = (maxLength: number) => ({ kind: "causal-lm" as const, maxLength });
const file = (name: string, text: string | Buffer): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const ids = (examples: { ids: Int32Array }[]) => examples.map((e) => [...e.ids]);

describe("data files that must simply work", () => {
  it("JSONL with a UTF-8 byte-order mark and CRLF line ends reads as plain JSONL", async () => {
    const lines = ['{"text": "the cat sat"}', '{"text": "a dog ran"}'];
    const plain = await loadExamples(file("plain.jsonl", lines.join("\n")), tok, lm(16));
    const windows = file("bom.jsonl", `\uFEFF${lines.join("\r\n")}\r\n`);
    assert.deepEqual(ids(await loadExamples(windows, tok, lm(16))), ids(plain));
  });

  it("a 50 MB record gives the first --max-length tokens of the whole text, with one warning", async () => {
    const words = Array.from({ length: 3000 }, (_, i) => WORDS[(i * 7) % WORDS.length]).join(" ");
    const whole = [...tok.encode(words), tok.eosId!].slice(0, 64);
    const huge = `${words} ${"the cat sat on the mat ".repeat(50e6 / 23)}`;
    const warnings: string[] = [];
    const path = file("huge.jsonl", `${JSON.stringify({ text: huge })}\n{"text": "a dog"}\n`);
    const examples = await loadExamples(path, tok, lm(64), (m) => warnings.push(m));
    assert.deepEqual(ids(examples), [whole, [...tok.encode("a dog"), tok.eosId!]]);
    assert.deepEqual(warnings, [
      `${path}: 1 of 2 examples were longer than --max-length 64 tokens and were truncated`,
    ]);
  });
});

describe("data that gets a clear answer", () => {
  it("a file whose texts are all empty is an error; a few empty texts are skipped and counted", async () => {
    const empty = file("empty.jsonl", '{"text": ""}\n{"text": "  "}\n');
    await assert.rejects(loadExamples(empty, tok, lm(8)), /empty\.jsonl: every text \(text\) is empty/);
    const warnings: string[] = [];
    const some = file("some.jsonl", '{"text": ""}\n{"text": "the cat"}\n');
    assert.equal((await loadExamples(some, tok, lm(8), (m) => warnings.push(m))).length, 1);
    assert.deepEqual(warnings, [`${some}: 1 records with empty text were skipped`]);
  });

  it("a prompt that fills --max-length leaves no completion token: skipped and counted, never a NaN loss", async () => {
    const pairs = file(
      "pairs.jsonl",
      '{"p": "the cat sat on the mat", "c": "a dog"}\n{"p": "the", "c": "cat sat"}\n',
    );
    const warnings: string[] = [];
    const data = { kind: "causal-lm" as const, promptField: "p", completionField: "c", maxLength: 4 };
    const examples = await loadExamples(pairs, tok, data, (m) => warnings.push(m));
    assert.equal(examples.length, 1);
    assert.ok(examples[0].targets!.some((t) => t >= 0));
    assert.deepEqual(warnings, [
      `${pairs}: 1 of 2 examples were longer than --max-length 4 tokens and were truncated; 1 kept no completion token within it and were skipped`,
    ]);
  });
});
