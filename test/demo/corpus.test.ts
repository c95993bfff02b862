import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pretrainingTexts, spamRecords } from "../../src/demo/corpus.js";

describe("built-in data", () => {
  it("splits SpamAssassin the same way every time, about 80/10/10, with both labels in each split", () => {
    const records = spamRecords();
    assert.equal(records.length, 6046);
    const count = (split: string, label?: string) =>
      records.filter((r) => r.split === split && (!label || r.label === label)).length;
    for (const split of ["train", "validation", "test"])
      assert.ok(count(split, "spam") > 0 && count(split, "ham") > 0, split);
    assert.ok(Math.abs(count("test") / records.length - 0.1) < 0.02);
    assert.equal(records.filter((r) => r.label === "spam").length, 1896);
    assert.deepEqual(
      spamRecords().map((r) => r.split),
      records.map((r) => r.split),
    );
    assert.ok(!/^Received:|^Return-Path:/m.test(records[0].text), "headers are removed");
  });

  it("reads the pretraining text from the npm packages", () => {
    const texts = pretrainingTexts();
    assert.ok(texts.length > 300);
    assert.ok(texts.some((t) => t.includes("Ishmael")));
  });
});
