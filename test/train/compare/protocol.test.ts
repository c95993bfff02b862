import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  type Cell,
  type CellKey,
  cellJob,
  CellStore,
  type CompareTask,
  type Finding,
  findings,
  findingsOf,
  parseVariant,
  type ProtocolOptions,
  runProtocol,
  taskReport,
  type JobOptions,
} from "../../../src/train/index.js";
import { comparisonMarkdown } from "../../../src/cli/compare-report.js";

const task: CompareTask = {
  name: "toy",
  metric: "accuracy",
  head: ["score"],
  job: { model: "m", data: "d", task: "classification" },
};
const settings = { steps: 10 };

/**
 * A fake training run: validation peaks at lr 1e-2 (beyond the first sweep); test adds a
 * per-variant offset (one for every seed, or one per seed) and seed noise.
 */
function fakeRunner(log: CellKey[], offset: Record<string, number | number[]>) {
  return async (_: CompareTask, key: CellKey): Promise<Cell> => {
    log.push(key);
    // Twice the steps gains 0.5 points on "lora" and 3 points on "lora@2" (still learning).
    const longer = key.steps ? (key.variant === "lora" ? 0.005 : 0.03) : 0;
    const peak = 0.8 - 0.05 * Math.abs(Math.log10(key.lr) + 2) + longer;
    const noise = [0, 0.004, -0.003, 0.002, -0.001][key.seed] ?? 0;
    const own = offset[key.variant] ?? 0;
    const score = peak + (Array.isArray(own) ? own[key.seed] : own) + noise;
    const diverged = key.lr > 0.05 || key.variant === "hadamard";
    return {
      ...key,
      settings: key.steps ? { steps: key.steps } : settings,
      parameters: key.variant === "condlora" ? 10 : 40,
      validation: diverged ? null : score,
      test: diverged ? null : score - 0.01,
      ranks: {},
      curve: [],
      seconds: 1,
      error: diverged ? "step 3: the loss is NaN" : null,
    };
  };
}

const tmp = (): string => mkdtempSync(join(tmpdir(), "morelora-protocol-"));

describe("the comparison protocol", () => {
  it("extends the sweep past a winning edge, then runs the seeds at the chosen rate", async () => {
    const log: CellKey[] = [];
    const store = new CellStore(tmp(), false);
    const [runs] = await runProtocol([task], store, () => settings, fakeRunner(log, {}), {
      variants: ["lora"],
      seeds: 3,
      lrs: [1e-4, 1e-3],
      extend: 2,
    });
    assert.deepEqual(
      runs.sweep.map((c) => c.lr),
      [1e-4, 1e-3, 1e-2, 0.1],
      "1e-3 won at the top edge, so 1e-2 was tried; it won, so 1e-1 was tried (and diverged)",
    );
    assert.equal(runs.chosenLr, 1e-2);
    assert.equal(runs.atEdge, false);
    assert.deepEqual(
      runs.seeds.map((c) => [c.lr, c.seed]),
      [
        [1e-2, 0],
        [1e-2, 1],
        [1e-2, 2],
      ],
    );
    assert.equal(log.length, 6, "seed 0 at the chosen rate is the sweep's cell, not a rerun");
  });

  it("extends past an edge that ties the best score, and still chooses the first best", async () => {
    const scores: Record<number, number> = { 1e-3: 0.7, 1e-2: 0.8, 0.1: 0.8, 1: 0.75, 10: 0.9 };
    const tied = async (_: CompareTask, key: CellKey): Promise<Cell> => ({
      ...(await fakeRunner([], {})(task, key)),
      validation: scores[key.lr],
      test: scores[key.lr],
      error: null,
    });
    const options = { variants: ["lora"], seeds: 1, lrs: [1e-3, 1e-2, 0.1], extend: 2 };
    const [runs] = await runProtocol([task], new CellStore(tmp(), false), () => settings, tied, options);
    assert.deepEqual(
      runs.sweep.map((c) => c.lr),
      [1e-3, 1e-2, 0.1, 1],
      "0.1 tied 1e-2 at the top edge, so 1 was tried; it scored less, so the sweep stopped",
    );
    assert.equal(runs.chosenLr, 1e-2);
    assert.equal(runs.atEdge, false);
    const [last] = await runProtocol([task], new CellStore(tmp(), false), () => settings, tied, {
      ...options,
      extend: 0,
    });
    assert.equal(last.chosenLr, 1e-2);
    assert.equal(last.atEdge, true, "a tie at an edge the sweep could not pass is flagged");
  });

  it("saves each cell as it finishes, and a resumed run trains only the missing cells", async () => {
    const dir = tmp();
    const options = { variants: ["lora", "dora"], seeds: 2, lrs: [1e-3, 1e-2, 1e-1], extend: 0 };
    const first: CellKey[] = [];
    // Stop after four cells, as a killed run would.
    const stopping = async (t: CompareTask, key: CellKey): Promise<Cell> => {
      if (first.length === 4) throw new Error("killed");
      return fakeRunner(first, {})(t, key);
    };
    await assert.rejects(
      runProtocol([task], new CellStore(dir, false), () => settings, stopping, options),
      /killed/,
    );
    assert.throws(() => new CellStore(dir, false), /pass --resume to continue it/);
    const second: CellKey[] = [];
    await runProtocol([task], new CellStore(dir, true), () => settings, fakeRunner(second, {}), options);
    assert.equal(
      second.length,
      4,
      "lora's 4 cells were done: only dora's sweep (3 rates) and its seed 1 run",
    );
    assert.ok(second.every((k) => !first.some((f) => JSON.stringify(f) === JSON.stringify(k))));
    const third: CellKey[] = [];
    await runProtocol([task], new CellStore(dir, true), () => settings, fakeRunner(third, {}), options);
    assert.equal(third.length, 0, "everything was finished");
    await assert.rejects(
      runProtocol(
        [task],
        new CellStore(dir, true),
        () => ({ steps: 20, extra: { a: 1 } }),
        fakeRunner([], {}),
        options,
      ),
      /trained with steps = 10, this run has 20/,
    );
    const path = new CellStore(dir, true).path({ task: "toy", variant: "lora", lr: 1e-2, seed: 1 });
    assert.equal(JSON.parse(readFileSync(path, "utf8")).seed, 1);
  });

  it("reports paired differences to LoRA and writes each claim as held, not seen or contradicted", async () => {
    const offsets = { dora: 0.05, moslora: -0.06, condlora: -0.001, additive: 0.0 };
    const runs = await runProtocol(
      [task],
      new CellStore(tmp(), false),
      () => settings,
      fakeRunner([], offsets),
      {
        variants: ["lora", ...Object.keys(offsets), "hadamard"],
        seeds: 5,
        lrs: [1e-3, 1e-2, 3e-2],
        extend: 0,
      },
    );
    const floor = (score: number) => [
      { name: "majority class", parameters: 0, validation: score, test: score, floor: true },
    ];
    const report = taskReport("toy", "accuracy", runs, floor(0.5));
    assert.equal(report.split, "test");
    const dora = report.rows.find((r) => r.variant === "dora")!;
    assert.equal(dora.versus!.reference, "lora");
    assert.ok(Math.abs(dora.versus!.difference.mean - 0.05) < 1e-9);
    const lines = findings([report]);
    const line = (title: RegExp): string => lines.find((l) => title.test(l))!;
    assert.match(
      line(/DoRA over LoRA/),
      /\*\*held\*\*.*\+5\.0 points, 95% CI \[\+5\.0, \+5\.0\] over 5 seeds/,
    );
    assert.match(line(/MoSLoRA over LoRA/), /\*\*contradicted\*\*/);
    assert.match(line(/CondLoRA on par/), /\*\*held\*\*.*condlora .* \(10 params\)/);
    assert.match(line(/Additive LoRA over LoRA/), /\*\*not seen\*\*/);
    assert.match(
      line(/Hadamard-product/),
      /\*\*not seen\*\*.*hadamard: step 3: the loss is NaN; hadamard diverged at every rate/,
    );
    assert.equal(report.rows.find((r) => r.variant === "hadamard")!.lr, null);
    const low = findings([taskReport("toy", "accuracy", runs, floor(0.9))]);
    assert.match(
      low.find((l) => /DoRA over/.test(l))!,
      /not seen.*neither dora nor lora beats the majority class/,
    );
  });

  it("says which held and contradicted verdicts stand after Holm's correction for the number of findings", async () => {
    // Differences to LoRA: additive +5 points on every seed (p = 0); dora +2 and moslora −2 on
    // average with a spread that puts each p just under 0.05: held and contradicted by their own
    // intervals, but over three findings Holm's second threshold is 0.05 / 2.
    const spread = [0, 0.01, -0.01, 0.02, -0.02];
    const offsets = {
      additive: 0.05,
      dora: spread.map((j) => 0.02 + j),
      moslora: spread.map((j) => -0.02 - j),
    };
    const runs = await runProtocol(
      [task],
      new CellStore(tmp(), false),
      () => settings,
      fakeRunner([], offsets),
      {
        variants: ["lora", ...Object.keys(offsets)],
        seeds: 5,
        lrs: [1e-3, 1e-2, 3e-2],
        extend: 0,
      },
    );
    const report = taskReport("toy", "accuracy", runs, []);
    const found = findingsOf([report]);
    const of = (row: string): Finding => found.find((f) => f.row === row)!;
    assert.deepEqual(
      found.map((f) => [f.row, f.verdict, f.survivesHolm]),
      [
        ["dora", "held", false],
        ["moslora", "contradicted", false],
        ["additive", "held", true],
      ],
    );
    assert.ok(of("dora").p! > 0.025 && of("dora").p! < 0.05, `p ${of("dora").p}`);
    assert.equal(of("additive").p, 0);
    assert.match(
      of("dora").line,
      /p = 0\.0\d\d, \*\*does not stand\*\* after Holm's correction for the 3 findings/,
    );
    assert.match(of("additive").line, /p < 0\.001, stands after Holm's correction for the 3 findings/);
    const page = comparisonMarkdown({ reports: [report], runs, findings: found }, "morelora compare", "");
    assert.match(page, /\| dora − lora \| held‡ \+2\.0 /);
    assert.match(page, /\| additive − lora \| held \+5\.0 /);
    assert.match(page, /^‡ .*Holm's correction for the 3 findings/m);
  });

  it("trains LoRA once more at twice the steps and calls the score flat when that gains under a point", async () => {
    const dir = tmp();
    const log: CellKey[] = [];
    const settingsOf = (_: CompareTask, steps?: number) => ({ steps: steps ?? 10 });
    const options = { variants: ["lora", "dora"], seeds: 2, lrs: [1e-3, 1e-2], extend: 0, steps: () => 10 };
    const runs = await runProtocol(
      [task],
      new CellStore(dir, false),
      settingsOf,
      fakeRunner(log, {}),
      options,
    );
    assert.deepEqual(
      log.filter((k) => k.steps !== undefined),
      [{ task: "toy", variant: "lora", lr: 1e-2, seed: 0, steps: 20 }],
      "one doubled cell: LoRA, seed 0, its chosen rate; no other variant",
    );
    assert.equal(runs[1].doubled, null);
    const plateau = taskReport("toy", "accuracy", runs, []).plateau!;
    assert.equal(plateau.steps, 10);
    assert.ok(Math.abs(plateau.gain - 0.005) < 1e-12);
    assert.equal(plateau.plateaued, true);
    // The doubled cell is stored under its own name and reused on resume.
    assert.ok(existsSync(join(dir, "toy", "lora", "lr0.01-seed0-steps20.json")));
    const again: CellKey[] = [];
    await runProtocol([task], new CellStore(dir, true), settingsOf, fakeRunner(again, {}), options);
    assert.equal(again.length, 0);
    const moving = await runProtocol(
      [{ ...task, name: "toy2" }],
      new CellStore(tmp(), false),
      settingsOf,
      async (t, key) => ({
        ...(await fakeRunner([], {})(t, { ...key, variant: key.steps ? "lora@2" : "lora" })),
        variant: key.variant,
      }),
      { ...options, variants: ["lora", "dora"] },
    );
    const report = taskReport("toy2", "accuracy", moving, []);
    assert.equal(report.plateau!.plateaued, false, "3 points from doubling");
    assert.match(
      findings([report]).find((l) => /DoRA over LoRA/.test(l))!,
      /LoRA had not plateaued on toy2 \(twice the steps gained \+3\.0 points\), so this ranks runs still learning\.$/,
    );
  });

  it("reports only what is finished when told to train nothing, naming the variants left out", async () => {
    const dir = tmp();
    const options = { variants: ["lora", "dora"], seeds: 2, lrs: [1e-3, 1e-2], extend: 0 };
    // A run stopped after lora's three cells and one of dora's.
    let budget = 4;
    const stopping = async (t: CompareTask, key: CellKey): Promise<Cell> => {
      if (budget-- === 0) throw new Error("killed");
      return fakeRunner([], {})(t, key);
    };
    await assert.rejects(
      runProtocol([task], new CellStore(dir, false), () => settings, stopping, options),
      /killed/,
    );
    const left: [string, string, number][] = [];
    const trained: CellKey[] = [];
    const reportOnly = (more: Partial<ProtocolOptions>) =>
      runProtocol([task], new CellStore(dir, true), () => settings, fakeRunner(trained, {}), {
        ...options,
        unfinished: (t, v, found) => left.push([t, v, found]),
        ...more,
      });
    const runs = await reportOnly({});
    assert.equal(trained.length, 0, "nothing trained");
    assert.deepEqual(
      runs.map((r) => r.variant),
      ["lora"],
    );
    assert.deepEqual(left, [["toy", "dora", 1]]);
    // Without its doubled run (not asked for in the stopped run) LoRA is still reported, unchecked.
    assert.equal(runs[0].doubled, null);
    const unchecked = await reportOnly({ steps: () => 10 });
    assert.deepEqual(
      unchecked.map((r) => [r.variant, r.doubled]),
      [["lora", null]],
    );
    assert.equal(trained.length, 0);
    const report = taskReport(
      "toy",
      "accuracy",
      runs,
      [],
      [{ task: "toy", variant: "dora", found: 1, left: 3 }],
    );
    assert.deepEqual(
      report.unfinished.map((u) => u.variant),
      ["dora"],
    );
  });

  it("gives every seed's cell the same held-out split and its own training seed", () => {
    const base = { valRatio: 0.1, adapter: {}, train: { maxSteps: 10 } } as unknown as JobOptions;
    const jobs = [0, 3].map((seed) => cellJob(base, task, { task: "toy", variant: "lora", lr: 1e-3, seed }));
    assert.deepEqual(
      jobs.map((j) => [j.splitSeed, j.train.seed]),
      [
        [0, 0],
        [0, 3],
      ],
    );
  });

  it("trains a cell for its task's steps on its task's modules, and a doubled cell twice as long", () => {
    const base = {
      adapter: { r: 4, targetModules: ["q_proj"] },
      train: { maxSteps: 10 },
    } as unknown as JobOptions;
    const own = { ...task, maxSteps: 30, targetModules: "all-linear" };
    const key = { task: "toy", variant: "dora", lr: 1e-3, seed: 0 };
    const [plain, mine, doubled] = [
      cellJob(base, task, key),
      cellJob(base, own, key),
      cellJob(base, own, { ...key, steps: 60 }),
    ];
    assert.deepEqual(
      [plain, mine, doubled].map((j) => [
        j.train.maxSteps,
        j.train.evalEvery,
        j.adapter.targetModules,
        j.adapter.r,
        j.adapter.method,
      ]),
      [
        [10, 1, ["q_proj"], 4, "dora"],
        [30, 3, "all-linear", 4, "dora"],
        [60, 6, "all-linear", 4, "dora"],
      ],
    );
  });

  it("lays the user's --model-config over a task's own config overrides, and adds none when neither has any", () => {
    const key = { task: "toy", variant: "lora", lr: 1e-3, seed: 0 };
    const base = { adapter: {}, train: {} } as unknown as JobOptions;
    const classifier = {
      ...task,
      job: { ...task.job, modelConfig: { architectures: ["X"], attention_dropout: 0 } },
    };
    const user = { ...base, modelConfig: { attention_dropout: 0.1 } } as JobOptions;
    assert.equal("modelConfig" in cellJob(base, task, key), false);
    assert.deepEqual(cellJob(user, task, key).modelConfig, { attention_dropout: 0.1 });
    assert.deepEqual(cellJob(base, classifier, key).modelConfig, {
      architectures: ["X"],
      attention_dropout: 0,
    });
    assert.deepEqual(cellJob(user, classifier, key).modelConfig, {
      architectures: ["X"],
      attention_dropout: 0.1,
    });
  });

  it("names a bad variant", () => {
    assert.throws(
      () => parseVariant("lorra"),
      /variant "lorra" \(or head, full\): expected one of lora, .*got "lorra"/,
    );
    assert.throws(() => parseVariant("lora:best"), /unknown option ":best"/);
    assert.throws(() => parseVariant("lora@0"), /"@0" is not a positive integer rank/);
    assert.deepEqual(parseVariant("hadamard:tanh@4").adapter, {
      method: "hadamard",
      activation: "tanh",
      r: 4,
    });
  });
});
