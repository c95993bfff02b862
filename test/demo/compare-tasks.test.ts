import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { builtInTask } from "../../src/demo/compare-tasks.js";
import { g2pRecords } from "../../src/demo/g2p.js";
import { SOTU_DECADES, SOTU_LABELS, sotuRecords } from "../../src/demo/sotu.js";

describe("built-in comparison tasks", () => {
  it("sotu: three parties in equal shares per split, whole speeches per split, the same split every time", () => {
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
    const texts = (split: string): Set<string> =>
      new Set(records.filter((r) => r.split === split).map((r) => r.text));
    const [train, validation, test] = [texts("train"), texts("validation"), texts("test")];
    for (const [name, held] of [
      ["validation", validation],
      ["test", test],
    ] as const)
      assert.ok(![...held].some((t) => train.has(t)), `no ${name} passage is also a training passage`);
    assert.ok(![...test].some((t) => validation.has(t)), "no passage in both validation and test");
    // Every set holds the parties in the same shares, so "always the training majority" scores alike on each.
    const share = (split: string, label: string): number =>
      records.filter((r) => r.split === split && r.label === label).length /
      records.filter((r) => r.split === split).length;
    for (const label of SOTU_LABELS)
      for (const split of ["validation", "test"])
        assert.ok(
          Math.abs(share(split, label) - share("train", label)) < 0.02,
          `${label}: ${split} ${share(split, label)} against train ${share("train", label)}`,
        );
    assert.ok(records.every((r) => r.text.length >= 300));
  });

  it("sotu-decade: 23 decades, each split holding every decade in the same shares", () => {
    const records = sotuRecords(undefined, undefined, "decade");
    const count = (split: string, label: string): number =>
      records.filter((r) => r.split === split && r.label === label).length;
    const size = (split: string): number => records.filter((r) => r.split === split).length;
    for (const label of SOTU_DECADES)
      for (const split of ["validation", "test"])
        assert.ok(
          count(split, label) > 0 &&
            Math.abs(count(split, label) / size(split) - count("train", label) / size("train")) < 0.01,
          `${label}: ${split} ${count(split, label)} of ${size(split)}, train ${count("train", label)} of ${size("train")}`,
        );
    // 2020 and 2021 count with the 2010s.
    assert.equal(new Set(records.map((r) => r.label)).size, 23);
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
    assert.throws(
      () => builtInTask("mnist", dir),
      /--tasks: unknown task "mnist" \(spam, sotu, sotu-decade, g2p\)/,
    );
  });
});
