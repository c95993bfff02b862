import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { saveModel } from "../../src/models/hf.js";
import { repoRoot } from "../fixtures.js";
import { tinyLlamaFolder, writeWordTokenizer } from "../support/hf-folders.js";
import { randomModel } from "../support/random-model.js";
import { BERT } from "../support/two-steps.js";

const cli = join(repoRoot(), "build", "src", "cli", "main.js");
const run = (...args: string[]) => spawnSync("node", [cli, ...args], { encoding: "utf8" });
const WORDS = ["the", "cat", "dog", "sat", "ran", "on", "a", "mat", "red", "big", "->", "k", "ae", "t"];

function jsonl(path: string, rows: Record<string, unknown>[]): string {
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join("\n"));
  return path;
}

/** Classification rows: "cat" sentences are label a, "dog" ones label b. */
const classRows = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const cat = i % 3 !== 0;
    return {
      text: `the ${["red", "big"][i % 2]} ${cat ? "cat" : "dog"} ${["sat", "ran"][(i >> 1) % 2]} on a mat`,
      label: cat ? "a" : "b",
    };
  });

/** A tiny Llama seen as a classifier, with classRows as its data. */
function classifierFolder(): string {
  const dir = tinyLlamaFolder(WORDS, 5, 0.3);
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({
      ...config,
      architectures: ["LlamaForSequenceClassification"],
      id2label: { 0: "a", 1: "b" },
    }),
  );
  jsonl(join(dir, "train.jsonl"), classRows(12));
  jsonl(join(dir, "validation.jsonl"), classRows(6));
  jsonl(join(dir, "test.jsonl"), classRows(6).reverse());
  return dir;
}

const cells = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".json"));

describe("morelora compare (the protocol at toy scale)", () => {
  it("sweeps, seeds, baselines, paired differences, findings, plots; --resume reruns nothing", () => {
    const dir = classifierFolder();
    const out = join(dir, "cmp");
    const args = [
      "compare",
      ...["--model", dir, "--data", join(dir, "train.jsonl"), "--validation", join(dir, "validation.jsonl")],
      ...["--test", join(dir, "test.jsonl"), "--task", "classification", "--r", "4", "--ranks", "2"],
      ...["--methods", "lora,dylora,lora@2,head", "--seeds", "2", "--lrs", "0.01,0.03", "--lr-extend", "0"],
      ...["--max-steps", "3", "--batch-size", "4", "--out", out],
    ];
    const first = run(...args);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(
      cells(join(out, "cells")).length,
      4 * 3 + 1,
      "per variant: 2 sweep cells and seed 1; LoRA once more at twice the steps",
    );
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    const [report] = results.reports;
    assert.equal(report.split, "test");
    const [one] = cells(join(out, "cells"));
    const { settings } = JSON.parse(readFileSync(join(out, "cells", one), "utf8"));
    assert.equal(settings.freshHead, true, "the checkpoint has no score head: drawn per seed");
    assert.deepEqual(
      report.baselines.map((b: { name: string }) => b.name),
      ["majority class", "bag-of-tokens logistic regression"],
    );
    assert.deepEqual(
      report.rows.map((r: { variant: string }) => r.variant),
      ["lora", "dylora", "dylora (rank 2)", "lora@2", "head"],
    );
    const row = (v: string) => report.rows.find((r: { variant: string }) => r.variant === v);
    assert.equal(row("head").parameters, 2 * 16, "only the score head (2 classes × hidden 16) trains");
    // q_proj 16→16 and v_proj 16→8 (2 of 4 heads for keys and values) in 2 layers at r 4, plus the head.
    assert.equal(row("lora").parameters, 2 * (4 * (16 + 16) + 4 * (16 + 8)) + 32);
    assert.equal(row("dylora (rank 2)").versus.reference, "lora@2");
    assert.equal(row("lora").score.n, 2);
    assert.equal(row("lora").curve.length, 3, "a validation point per step");
    assert.ok([0.01, 0.03].includes(row("lora").lr));
    assert.match(results.findings.join("\n"), /DyLoRA's nested ranks.*dylora \(rank 2\) − lora@2/);
    const dyloraVerdict = results.verdicts.find((f: { row: string }) => f.row === "dylora (rank 2)");
    assert.equal(dyloraVerdict.reference, "lora@2");
    assert.equal(report.plateau.steps, 3);
    const md = readFileSync(join(out, "results.md"), "utf8");
    assert.match(md, /\| majority class \| 0 \|/);
    assert.match(
      md,
      new RegExp(
        `\\| DyLoRA's nested ranks[^|]* \\| dylora \\(rank 2\\) − lora@2 \\| ${dyloraVerdict.verdict}†? [−+]`,
      ),
      "the verdict table has the finding's verdict and difference",
    );
    assert.match(
      md,
      /Plateau: LoRA \(seed 0, chosen rate\) scored [\d.]+ on validation after 3 steps and [\d.]+ after 6/,
    );
    assert.doesNotMatch(md, /VALIDATION NUMBERS/);
    assert.ok(
      md.includes(`not corrected for the ${results.findings.length} findings below`),
      "the caveat counts the findings its 95% intervals are not corrected for",
    );
    const svg = readFileSync(join(out, "task.svg"), "utf8");
    assert.ok(
      report.rows.every((r: { variant: string }) => svg.includes(`>${r.variant} (`)),
      "every row is in the legend",
    );
    assert.ok(new Set(svg.match(/fill="#[0-9a-f]{6}"\/>/g)).size >= 5, "each row has its own colour");
    assert.match(readFileSync(join(out, "task-curves.svg"), "utf8"), /<path d="M/);

    const again = run(...args, "--resume");
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /validation \d/, "no cell trained again");
    assert.match(again.stderr, /done earlier/);
    assert.deepEqual(JSON.parse(readFileSync(join(out, "results.json"), "utf8")).reports, results.reports);
    // A report of a run in progress: dora has no cells yet, so it is named and left out; nothing trains.
    const withDora = args.map((a) => (a === "lora,dylora,lora@2,head" ? "lora,dora,dylora,lora@2,head" : a));
    const partial = run(...withDora, "--report-only");
    assert.equal(partial.status, 0, partial.stderr);
    assert.doesNotMatch(partial.stderr, /validation \d/, "nothing trained");
    assert.match(partial.stdout, /not finished, left out: dora/);
    assert.match(
      readFileSync(join(out, "results.md"), "utf8"),
      /\*\*Not finished, left out of this table\*\* \(a report of a run in progress\): dora \(0 cells done\)\. At least 3 runs to go: about [\d.]+ core-hours at the median/,
    );
    assert.equal(cells(join(out, "cells")).length, 13, "no cell was added");
    const nothing = run("compare", "--report-only", "--out", join(dir, "nowhere"));
    assert.equal(nothing.status, 1);
    assert.match(nothing.stderr, /--report-only: .*nowhere\/cells does not exist/);
    const refused = run(...args);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /holds finished cells .*pass --resume/);
  });

  it("--jobs 2 runs the variants in two processes and reports the same numbers as one process", () => {
    const dir = classifierFolder();
    const args = (out: string) => [
      "compare",
      ...["--model", dir, "--data", join(dir, "train.jsonl"), "--validation", join(dir, "validation.jsonl")],
      ...["--test", join(dir, "test.jsonl"), "--task", "classification", "--r", "4"],
      ...["--methods", "lora,dora,head", "--seeds", "2", "--lrs", "0.01,0.03", "--lr-extend", "0"],
      ...["--max-steps", "3", "--batch-size", "4", "--out", out],
    ];
    const env = { ...process.env, MORELORA_THREADS: "1" };
    const one = spawnSync("node", [cli, ...args(join(dir, "one"))], { encoding: "utf8", env });
    assert.equal(one.status, 0, one.stderr);
    const two = spawnSync("node", [cli, ...args(join(dir, "two")), "--jobs", "2"], { encoding: "utf8", env });
    assert.equal(two.status, 0, two.stderr);
    assert.match(
      two.stderr,
      /compare: task dora lr 0\.03 seed 0: validation/,
      "the children's progress passes through",
    );
    const numbers = (out: string) => {
      const { reports, findings } = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
      const rows = reports[0].rows.map((r: Record<string, unknown>) => [r.variant, r.lr, r.perSeed, r.sweep]);
      return { rows, plateau: reports[0].plateau, unfinished: reports[0].unfinished, findings };
    };
    assert.deepEqual(numbers(join(dir, "two")), numbers(join(dir, "one")));
    assert.equal(cells(join(dir, "two", "cells")).length, cells(join(dir, "one", "cells")).length);
    const again = spawnSync("node", [cli, ...args(join(dir, "two")), "--jobs", "2"], {
      encoding: "utf8",
      env,
    });
    assert.equal(again.status, 1, "finished cells without --resume are refused before any child starts");
    assert.match(again.stderr, /holds finished cells .*pass --resume/);
  });

  it("names a bad flag in one line before any work", () => {
    for (const [args, message] of [
      [["--test", "t.jsonl"], /--test goes with --model and --data/],
      [["--tasks", "spam,mnist"], /--tasks: unknown task "mnist" \(spam, sotu, sotu-decade, g2p\)/],
      [["--methods", "lora,dora:better,lorra"], /variant "lorra" \(or head, full\): expected one of lora/],
      [["--lrs", "1e-3,fast"], /--lrs expects positive numbers, got "1e-3,fast"/],
      [["--seeds", "0"], /--seeds expects a positive integer, got "0"/],
      [["--jobs", "two"], /--jobs expects a positive integer, got "two"/],
      [["--method", "dora"], /--method: compare trains the variants of --methods/],
      [["--full"], /--full: compare runs full fine-tuning as the variant "full" of --methods/],
      [["--lr", "1e-3"], /--lr: compare sweeps the rates of --lrs/],
      [["--learning-rate", "1e-3"], /--lr: compare sweeps the rates of --lrs/],
      [["--seed", "3"], /--seed: compare runs seeds 0 … n−1 of --seeds n/],
    ] as const) {
      const out = join(tinyLlamaFolder(WORDS, 7, 0.3), "cmp");
      // A one-step run first, so that a check that lets its flag through fails fast instead of
      // starting the full run: the flag under test comes after and overrides it.
      const small = ["--tasks", "spam", "--methods", "lora", "--seeds", "1", "--lrs", "0.1"];
      const r = run("compare", ...small, "--lr-extend", "0", "--max-steps", "1", ...args, "--out", out);
      assert.equal(r.status, 1, args.join(" "));
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.ok(!existsSync(out), "nothing was written");
    }
  });

  it("names a bad flag or file of your own data in one line before any work", () => {
    const dir = tinyLlamaFolder(WORDS, 7, 0.3);
    const text = jsonl(
      join(dir, "text.jsonl"),
      classRows(12).map((r) => ({ text: r.text })),
    );
    const own = ["--model", dir, "--data", text, "--seeds", "1", "--lrs", "0.01", "--lr-extend", "0"];
    const out = join(dir, "cmp");
    for (const [args, message] of [
      [["--test", join(dir, "nope.jsonl")], /--test .*nope\.jsonl: no such file/],
      // Validation chooses each rate: an empty one scored NaN (classification) or a loss of 0.
      [["--val-ratio", "0"], /--val-ratio 0: compare chooses each learning rate on validation/],
      [["--methods", "lora,head"], /--methods: "head" trains only a classifier's head/],
      [["--r", "2", "--ranks", "1,4", "--methods", "dylora"], /--ranks: 4 is not below --r 2/],
    ] as const) {
      const r = run("compare", ...own, ...args, "--max-steps", "1", "--out", out);
      assert.equal(r.status, 1, args.join(" "));
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.ok(!existsSync(out), "nothing was written");
    }
    // Three records: a --val-ratio of 0.1 holds out none of them.
    const three = jsonl(
      join(dir, "three.jsonl"),
      classRows(3).map((r) => ({ text: r.text })),
    );
    const r = run("compare", ...own, "--data", three, "--methods", "lora", "--max-steps", "1", "--out", out);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /three\.jsonl: --val-ratio 0\.1 holds out none of its 3 examples for validation/);
    assert.ok(!existsSync(join(out, "cells")), "no cell was written");
  });

  it("trains only the head of a BERT classifier (its head is classifier, not score)", () => {
    const dir = mkdtempSync(join(tmpdir(), "morelora-bert-"));
    saveModel(randomModel({ ...BERT, id2label: { 0: "a", 1: "b" } }), dir);
    writeWordTokenizer(dir, WORDS);
    const data = jsonl(join(dir, "train.jsonl"), classRows(12));
    const out = join(dir, "cmp");
    const r = run(
      "compare",
      ...["--model", dir, "--data", data, "--validation", data, "--task", "classification"],
      ...["--methods", "head", "--seeds", "1", "--lrs", "0.01", "--lr-extend", "0"],
      ...["--max-steps", "1", "--out", out],
    );
    assert.equal(r.status, 0, r.stderr);
    const [report] = JSON.parse(readFileSync(join(out, "results.json"), "utf8")).reports;
    assert.equal(
      report.rows[0].parameters,
      2 * 16 + 2,
      "the classifier's weight and bias (2 classes × hidden 16)",
    );
    const [file] = cells(join(out, "cells"));
    const { settings } = JSON.parse(readFileSync(join(out, "cells", file), "utf8"));
    assert.equal(settings.freshHead, false, "the checkpoint holds the classifier: used as loaded");
  });

  it("scores generation by exact match and says loudly when it reports validation numbers", () => {
    const dir = tinyLlamaFolder(WORDS, 6, 0.3);
    const pairs = ["cat", "mat", "red"].map((w) => ({ prompt: `${w} ->`, completion: "k ae t" }));
    const data = jsonl(join(dir, "g2p.jsonl"), [...pairs, ...pairs]);
    const out = join(dir, "cmp");
    const r = run(
      "compare",
      ...["--model", dir, "--data", data, "--validation", data, "--prompt-field", "prompt"],
      ...["--completion-field", "completion", "--methods", "lora", "--seeds", "1", "--lrs", "0.05"],
      ...["--lr-extend", "0", "--max-steps", "2", "--batch-size", "3", "--out", out, "--quiet"],
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /VALIDATION NUMBERS/);
    const [report] = JSON.parse(readFileSync(join(out, "results.json"), "utf8")).reports;
    assert.equal(report.metric, "exact-match");
    assert.equal(report.split, "validation");
    const score = report.rows[0].score.mean;
    assert.ok(score >= 0 && score <= 1 && Number.isInteger(score * 3), "a share of the three prompts");
    assert.match(readFileSync(join(out, "results.md"), "utf8"), /\*\*VALIDATION NUMBERS/);
  });

  it("scores prompt/completion data, known by its keys, on a --val-ratio split; refuses --pack", () => {
    const dir = tinyLlamaFolder(WORDS, 6, 0.3);
    const words = ["cat", "mat", "red", "dog", "sat", "big"];
    const pairs = words.map((w) => ({ prompt: `${w} ->`, completion: "k ae t" }));
    const data = jsonl(join(dir, "g2p.jsonl"), [...pairs, ...pairs]);
    const args = (out: string) => [
      "compare",
      ...["--model", dir, "--data", data, "--val-ratio", "0.5", "--methods", "lora", "--seeds", "1"],
      ...[
        "--lrs",
        "0.05",
        "--lr-extend",
        "0",
        "--max-steps",
        "60",
        "--batch-size",
        "3",
        "--out",
        out,
        "--quiet",
      ],
    ];
    const r = run(...args(join(dir, "cmp")));
    assert.equal(r.status, 0, r.stderr);
    const [report] = JSON.parse(readFileSync(join(dir, "cmp", "results.json"), "utf8")).reports;
    assert.equal(report.metric, "exact-match", "its keys say prompt/completion, as training reads them");
    const score = report.rows[0].validation.mean;
    // Every completion is "k ae t": 60 steps learn it for some held-out prompts. Scoring prompts
    // of no split (an empty list) gave 0.
    assert.ok(
      score > 0 && Number.isInteger(Math.round(score * 6 * 1e9) / 1e9),
      `a share of the 6 held out: ${score}`,
    );
    const packed = run(...args(join(dir, "packed")), "--pack");
    assert.equal(packed.status, 1);
    assert.match(packed.stderr, /--pack: generation is scored per record/);
    assert.ok(!existsSync(join(dir, "packed")), "nothing was written");
  });
});
