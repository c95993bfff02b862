import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Command } from "commander";
import { defaultConfig } from "../../src/adapters/index.js";
import { addJobOptions, resolveOptions, toJobOptions } from "../../src/cli/job-options.js";
import { registerCompare } from "../../src/cli/compare.js";
import { registerDemo } from "../../src/cli/demo.js";
import { registerGenerate } from "../../src/cli/generate.js";
import { DEFAULT_TRAIN_CONFIG, jobOptions, optionDefaults } from "../../src/train/index.js";

const dir = mkdtempSync(join(tmpdir(), "morelora-options-"));
const model = join(dir, "model");
const data = join(dir, "d.jsonl");
writeFileSync(data, '{"text": "a"}\n');
// Option checks run before anything reads the model folder, so an empty one will do.
mkdirSync(model);

/** The resolved options of `train ARGS` (with a config file holding `yaml`, if given). */
function train(args: string[], yaml?: string): Record<string, unknown> {
  const cmd = addJobOptions(new Command("train").exitOverride(), { train: true });
  const config = yaml === undefined ? [] : ["--config", join(dir, "job.yaml")];
  if (yaml !== undefined) writeFileSync(join(dir, "job.yaml"), yaml);
  cmd.parse(["--model", model, "--data", data, ...config, ...args], { from: "user" });
  return resolveOptions(cmd);
}

describe("options declared once", () => {
  it("every bad value stops with one line naming the flag or key and what is allowed", () => {
    const cases: [string[], string | undefined, RegExp][] = [
      [["--lr", "-1"], undefined, /^--lr: expected a number > 0, got -1$/],
      [["--lr", "NaN"], undefined, /^--lr: expected a number > 0, got "NaN"$/],
      [[], "lr: abc\n", /^--config .*job\.yaml: "lr": expected a number > 0, got "abc"$/],
      [[], "lr: .nan\n", /"lr": expected a number > 0, got NaN$/],
      [["--weight-decay", "-1"], undefined, /^--weight-decay: expected a number ≥ 0, got -1$/],
      [["--clip", "-1"], undefined, /^--clip: expected a number > 0 \(or null\), got -1$/],
      [["--grad-accum", "0"], undefined, /^--grad-accum: expected an integer ≥ 1, got 0$/],
      [["--batch-size", "0"], undefined, /^--batch-size: expected an integer ≥ 1, got 0$/],
      [["--max-length", "0"], undefined, /^--max-length: expected an integer ≥ 1, got 0$/],
      [["--val-ratio", "1.5"], undefined, /^--val-ratio: expected a number ≥ 0 and < 1, got 1\.5$/],
      [["--full", "--method", "dora"], undefined, /^--full trains every parameter and takes no --method/],
      [["--prompt-field", "p"], undefined, /^--prompt-field and --completion-field go together/],
      [[], "optimizer: lion\n", /"optimizer": expected one of adamw, sgd, got "lion"$/],
      [[], "schedule: cosine_with_restarts\n", /"schedule": expected one of constant, linear, cosine, got/],
      [[], "task: regression\n", /"task": expected one of causal-lm, classification, got "regression"$/],
      [[], "max_lenght: 3\n", /"max_lenght": unknown option "max_lenght" \(did you mean "max-length"\?\)$/],
      [["--dropout", "1"], undefined, /^--dropout: expected a number ≥ 0 and < 1, got 1$/],
      [["--k", "0"], undefined, /^--k: expected an integer ≥ 1, got 0$/],
      [
        ["--activation", "relu"],
        undefined,
        /^--activation: expected one of none, tanh, sigmoid, got "relu"$/,
      ],
      [["--rank-pattern", "q_proj=0"], undefined, /^--rank-pattern: expected .*≥ 1, got 0$/],
      [["--method", "lora:nope"], undefined, /^--method: unknown option ":nope" \(better/],
    ];
    for (const [args, yaml, message] of cases)
      assert.throws(
        () => train(args, yaml),
        (e: Error) => message.test(e.message),
        `${args.join(" ")} ${yaml ?? ""}`,
      );
  });

  it("other front ends' names work as flags and config keys (steps-per-eval, save-every)", () => {
    const t = toJobOptions(train(["--steps-per-eval", "3", "--save-every", "4", "--val-batches", "2"])).train;
    assert.deepEqual([t.evalEvery, t.checkpointEvery, t.valBatches], [3, 4, 2]);
    assert.equal(toJobOptions(train([], "steps_per_eval: 5\n")).train.evalEvery, 5);
    const mlx = toJobOptions(train(["--iters", "7", "--learning-rate", "2e-4", "--max-seq-length", "64"]));
    assert.deepEqual([mlx.train.maxSteps, mlx.train.lr, mlx.maxLength], [7, 2e-4, 64]);
    assert.equal(toJobOptions(train([], "learning_rate: 3e-4\n")).train.lr, 3e-4);
    assert.throws(
      () => train(["--save-every", "0"]),
      /--save-every: expected an integer ≥ 1 \(or null\), got 0$/,
    );
  });

  it("config keys in either spelling; flags win; every library option is reachable", () => {
    assert.equal(train([], "max-length: 7\n").maxLength, 7);
    assert.equal(train([], "maxLength: 7\n").maxLength, 7);
    assert.equal(train(["--max-length", "9"], "max_length: 7\n").maxLength, 9);
    const job = toJobOptions(
      train(
        [
          ...["--rank-pattern", "q_proj=4", "--layers", "0", "--no-dylora-frozen", "--method", "lora:better"],
          ...["--model-config", "resid_pdrop=0,attn_pdrop=0.05"],
        ],
        "alphaPattern: { v_proj: 32 }\nbias: all\nlayers-pattern: [layers]\nmixerInit: orthogonal\ndyloraRank: 2\nmomentum: 0.5\noptimizer: sgd\nclip: null\n",
      ),
    );
    assert.deepEqual(job.modelConfig, { resid_pdrop: 0, attn_pdrop: 0.05 });
    assert.deepEqual(job.adapter.rankPattern, { q_proj: 4 });
    assert.deepEqual(job.adapter.alphaPattern, { v_proj: 32 });
    assert.deepEqual(job.adapter.layersToTransform, [0]);
    assert.deepEqual(job.adapter.layersPattern, ["layers"]);
    assert.equal(job.adapter.bias, "all");
    assert.equal(job.adapter.init, "better");
    assert.equal((job.adapter as Record<string, unknown>).mixerInit, "orthogonal");
    assert.equal((job.adapter as Record<string, unknown>).dyloraRank, 2);
    assert.equal((job.adapter as Record<string, unknown>).dyloraFrozen, false);
    assert.deepEqual([job.train.momentum, job.train.optimizer, job.train.clipNorm], [0.5, "sgd", null]);
    // Every field of the library's adapter and train configs has a flag (the seed is the run's).
    const keys = new Set(jobOptions().map((o) => o.key));
    const missing = [...Object.keys(defaultConfig()), ...Object.keys(DEFAULT_TRAIN_CONFIG)].filter(
      (k) => !keys.has(k),
    );
    assert.deepEqual(missing, []);
  });

  it("the CLI's defaults are the library's", () => {
    const o = toJobOptions(train([]));
    const library = defaultConfig() as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(o.adapter)) if (k in library) assert.deepEqual(v, library[k], k);
    assert.equal(o.adapter.alpha, library.alpha);
    assert.deepEqual(optionDefaults("train"), { ...DEFAULT_TRAIN_CONFIG });
    assert.deepEqual({ ...DEFAULT_TRAIN_CONFIG, ...o.train }, DEFAULT_TRAIN_CONFIG);
  });

  it("one method grammar: train, compare and demo accept and refuse the same names", async () => {
    assert.equal(toJobOptions(train(["--method", "hadamard:tanh"])).adapter.activation, "tanh");
    const refusals = async (method: string): Promise<string[]> => {
      const messages: string[] = [];
      const run = async (register: (p: Command) => void, args: string[]): Promise<void> => {
        const program = new Command().exitOverride();
        register(program);
        await program.parseAsync(args, { from: "user" }).catch((e: Error) => messages.push(e.message));
      };
      try {
        train(["--method", method]);
      } catch (e) {
        messages.push((e as Error).message);
      }
      await run(registerDemo, ["demo", "--method", method]);
      await run(registerCompare, ["compare", "--model", model, "--data", data, "--methods", method]);
      // compare names the variant, train and demo the flag; what follows is the same.
      return messages.map((m) => m.slice(m.indexOf("expected")));
    };
    const bad = await refusals("lorra:better");
    assert.equal(bad.length, 3);
    assert.match(bad[0], /^expected one of lora, dora, .*got "lorra"$/);
    assert.deepEqual(bad, [bad[0], bad[0], bad[0]]);
  });

  it("generate --seed must be an integer", async () => {
    const program = new Command().exitOverride();
    registerGenerate(program);
    await assert.rejects(
      program.parseAsync(["generate", "--model", model, "--prompt", "a", "--seed", "abc"], { from: "user" }),
      /^Error: --seed expects an integer ≥ 0, got "abc"$/,
    );
  });
});
