import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { builtInTask } from "../../src/demo/compare-tasks.js";
import { g2pRecords } from "../../src/demo/g2p.js";
import { SOTU_LABELS, sotuRecords } from "../../src/demo/sotu.js";

describe("built-in comparison tasks", () => {
  it("sotu: three parties, whole speeches per split, the same split every time", () => {
    const records = sotuRecords();
    for (const split of ["train", "validation", "test"] as const) {
      const labels = new Set(records.filter((r) => r.split === split).map((r) => r.label));
      assert.deepEqual([...labels].sort(), [...SOTU_LABELS].sort(), `${split} has every class`);
    }
    assert.deepEqual(
      records.map((r) => r.split).slice(0, 50),
      sotuRecords()
        .map((r) => r.split)
        .slice(0, 50),
    );
    const test = new Set(records.filter((r) => r.split === "test").map((r) => r.text));
    assert.ok(!records.some((r) => r.split === "train" && test.has(r.text)), "no passage in two splits");
    assert.ok(records.every((r) => r.text.length >= 300));
  });

  it("g2p: single-pronunciation words, phones without stress, disjoint splits", () => {
    const records = g2pRecords({ train: 50, validation: 20, test: 20 });
    assert.equal(records.length, 90);
    const cat = g2pRecords({ train: 1e6, validation: 1e6, test: 1e6 }).find((r) => r.word === "c a t");
    assert.equal(cat?.phones, "K AE T", "CMUdict's CAT is K AE1 T");
    assert.ok(records.every((r) => !/\d/.test(r.phones) && /^[a-z]( [a-z]){2,9}$/.test(r.word)));
    const words = (split: string) => new Set(records.filter((r) => r.split === split).map((r) => r.word));
    const train = words("train");
    assert.ok(![...words("test")].some((w) => train.has(w)));
  });

  it("writes each task's split files and names its head and metric; an unknown task is named", () => {
    const dir = mkdtempSync(join(tmpdir(), "morelora-tasks-"));
    const g2p = builtInTask("g2p", dir);
    assert.equal(g2p.metric, "edit-accuracy");
    const first = JSON.parse(readFileSync(g2p.job.testFile!, "utf8").split("\n")[0]);
    assert.match(first.prompt, / ->$/);
    const sotu = builtInTask("sotu", dir);
    assert.deepEqual(sotu.head, ["score"]);
    assert.equal(sotu.freshHead, true, "the head is not in the built-in checkpoint: each seed draws it");
    assert.throws(() => builtInTask("mnist", dir), /--tasks: unknown task "mnist" \(spam, sotu, g2p\)/);
  });
});
