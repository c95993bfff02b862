import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { HFTokenizer } from "../../../src/models/index.js";
import { recordPairs, splitPairs } from "../../../src/train/compare/split-pairs.js";
import { readPairs } from "../../../src/train/compare/generation-score.js";
import { loadExamples, splitExamples } from "../../../src/train/index.js";
import { tinyLlamaFolder } from "../../support/hf-folders.js";

const WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "->", "k", "ae", "t"];

describe("the prompt/completion pairs generation is scored on", () => {
  it("scores the records the held-out examples came from, skipped records and all", async () => {
    const dir = tinyLlamaFolder(WORDS, 3, 0.3);
    const tok = HFTokenizer.load(dir);
    const rows = ["the", "cat", "", "sat", "on", "mat", "a", "dog", "ran"].map((w, i) => ({
      prompt: w === "" ? "" : `${w} ->`,
      completion: w === "" ? "" : ["k", "ae", "t"][i % 3],
    }));
    const file = join(dir, "pairs.jsonl");
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n"));
    const data = { kind: "causal-lm" as const, maxLength: 16 };
    const examples = await loadExamples(file, tok, data, () => {});
    assert.equal(
      examples.length,
      8,
      "the empty record is skipped, so examples and records no longer line up",
    );
    const { validation } = splitExamples(examples, 0.5, 3);
    const pairs = recordPairs(validation, await readPairs(file, "prompt", "completion"), file);
    assert.equal(pairs.length, validation.length);
    validation.forEach((e, i) => {
      const prompt = tok.encode(pairs[i].prompt);
      const completion = tok.encode(pairs[i].completion, { addSpecialTokens: false });
      assert.deepEqual([...e.ids], [...prompt, ...completion, tok.eosId!], `held-out example ${i}`);
    });
  });

  it("scores a split of its own file on the records its examples kept", async () => {
    const dir = tinyLlamaFolder(WORDS, 5, 0.3);
    const tok = HFTokenizer.load(dir);
    const write = (name: string, words: string[]): string => {
      const rows = words.map((w) => ({ prompt: w && `${w} ->`, completion: w && "k ae t" }));
      writeFileSync(join(dir, name), rows.map((r) => JSON.stringify(r)).join("\n"));
      return join(dir, name);
    };
    const [data, validation, test] = [
      write("train.jsonl", ["the", "cat"]),
      write("validation.jsonl", ["sat", "", "mat"]),
      write("test.jsonl", ["dog"]),
    ];
    const load = (file: string) => loadExamples(file, tok, { kind: "causal-lm", maxLength: 16 }, () => {});
    const examples = { train: await load(data), validation: await load(validation), test: await load(test) };
    const opts = { data, validation, testFile: test, promptField: "prompt", completionField: "completion" };
    const pairs = await splitPairs(opts, examples, new Map());
    assert.deepEqual(
      pairs.validation.map((p) => p.prompt),
      ["sat ->", "mat ->"],
      "the empty record made no example, so it is not scored",
    );
    assert.deepEqual([pairs.train.length, pairs.test.map((p) => p.prompt)], [2, ["dog ->"]]);
  });

  it("refuses packed examples, which come from no one record", async () => {
    const dir = tinyLlamaFolder(WORDS, 4, 0.3);
    const tok = HFTokenizer.load(dir);
    const file = join(dir, "text.jsonl");
    writeFileSync(file, ['{"text": "the cat sat on the mat"}', '{"text": "a dog ran"}'].join("\n"));
    const packed = await loadExamples(file, tok, { kind: "causal-lm", maxLength: 4, pack: true }, () => {});
    assert.throws(() => recordPairs(packed, [], file), /text\.jsonl: packed examples cannot be scored/);
  });
});
