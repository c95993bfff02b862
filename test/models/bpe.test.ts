import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Tokenizer } from "@huggingface/tokenizers";
import { bpeTokenizerJson, byteToUnicode, trainBpe } from "../../src/models/bpe.js";

const TEXTS = [
  "the lowest lower newest widest",
  "the newer lower slower widest",
  "Ünïcödé and émoji 🙂 text",
  "lower lowest newest",
];

describe("byte-level BPE training", () => {
  it("maps all 256 bytes to distinct printable characters as GPT-2 does", () => {
    const table = byteToUnicode();
    assert.equal(new Set(table).size, 256);
    assert.equal(table[65], "A");
    assert.equal(table[32], "Ġ");
    assert.equal(table[10], "Ċ");
  });

  it("learns merges that @huggingface/tokenizers applies, round-trips any text, and is deterministic", () => {
    const specials = ["<|endoftext|>", "<|pad|>"];
    const { vocab, merges } = trainBpe(TEXTS, { vocabSize: 300, specialTokens: specials });
    assert.equal(vocab.size, 258 + merges.length);
    assert.deepEqual([vocab.get("<|endoftext|>"), vocab.get("<|pad|>")], [0, 1]);
    const tok = new Tokenizer(bpeTokenizerJson(vocab, merges, specials), {});
    for (const text of [...TEXTS, "never seen: ẞ 42 tabs\tand\nnewlines"]) {
      const { ids } = tok.encode(text);
      assert.equal(tok.decode(ids), text);
    }
    assert.ok(tok.encode("lower lowest").ids.length < "lower lowest".length, "merges shorten known words");
    assert.deepEqual(trainBpe(TEXTS, { vocabSize: 300, specialTokens: specials }).merges, merges);
  });
});
