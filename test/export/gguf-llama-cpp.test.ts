import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { getLlama, type Llama, LlamaLogLevel, type Token } from "node-llama-cpp";
import { getPeftModel, PeftModel } from "../../src/adapters/index.js";
import { tokenizerMetadata } from "../../src/export/gguf-tokenizer.js";
import { exportGgufModel } from "../../src/export/index.js";
import { generate, type Generative, HFTokenizer, loadModel } from "../../src/models/index.js";
import { Generator, noGrad } from "../../src/tensor/index.js";
import { repoRoot } from "../fixtures.js";
import {
  GPT2_CONFIG,
  gpt2Shapes,
  LLAMA_CONFIG,
  LLAMA3_ROPE_SCALING,
  llamaShapes,
  randomTensors,
  writeFolder,
} from "../support/hf-folders.js";
import { writeSpmTokenizer } from "../support/spm-tokenizer.js";

/**
 * The acceptance test of docs/export.md: llama.cpp (through node-llama-cpp's prebuilt binaries)
 * loads what `morelora export` writes for the built-in model, with and without an adapter, and
 * its greedy continuation and tokenization equal morelora's own. The KV cache is f32, since
 * llama.cpp's default f16 cache alone moves log-probabilities by ~1e-3.
 */
const root = repoRoot();
const builtin = join(root, "assets", "morelora-default");
const cli = join(root, "build", "src", "cli", "main.js");
const tmp = mkdtempSync(join(tmpdir(), "morelora-gguf-"));
const STEPS = 24;

/** Adapter weights moved off their (identity) init, as training would move them. */
function perturb(peft: PeftModel, seed: number, std: number): void {
  const rng = new Generator(seed);
  noGrad(() => {
    for (const [, t] of peft.trainableParameters())
      for (let i = 0; i < t.size; i++) t.data[i] += rng.normal(0, std);
  });
}

let llama: Llama | null = null;
let why = "";
try {
  // Prebuilt binaries only: never download or build llama.cpp from source.
  llama = await getLlama({ build: "never", gpu: false, logLevel: LlamaLogLevel.error });
} catch (e) {
  why = (e as Error).message.split("\n")[0];
}
const skip = llama ? false : `node-llama-cpp cannot load on this platform (${why})`;

async function llamaCppGreedy(modelPath: string, prompt: number[], lora?: string): Promise<number[]> {
  const model = await llama!.loadModel({ modelPath });
  const context = await model.createContext({
    contextSize: 256,
    // One thread (spinning worker threads crawl on a busy machine); no flash attention, whose CPU
    // kernel rounds through f16 and moves log-probabilities by ~1e-3.
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
    ...(lora ? { lora } : {}),
  });
  const out: number[] = [];
  for await (const t of context.getSequence().evaluate(prompt as Token[], { temperature: 0 })) {
    out.push(t);
    if (out.length === STEPS) break;
  }
  await context.dispose();
  await model.dispose();
  return out;
}

const morelora = (model: unknown, prompt: number[]): number[] =>
  generate(model as Generative, prompt, { maxNewTokens: STEPS });

describe("morelora export → llama.cpp (node-llama-cpp 3.21.1)", { skip }, () => {
  const tokenizer = HFTokenizer.load(builtin);
  const prompt = tokenizer.encode("The whale swam towards the ship, and the captain");
  const baseGguf = join(tmp, "base.gguf");
  let baseTokens: number[] = [];

  before(() => {
    exportGgufModel(builtin, baseGguf);
    baseTokens = morelora(loadModel(builtin), prompt);
  });
  after(async () => {
    await llama?.dispose();
  });

  it("tokenizes sample strings, special tokens included, exactly as morelora", async () => {
    const model = await llama!.loadModel({ modelPath: baseGguf });
    const samples = [
      "Call me Ishmael. Some years ago—never mind how long precisely—",
      "  two  spaces,\n\nnew lines\tand a tab   ",
      "<|endoftext|>The end.<|pad|><|pad|>",
      "it's, I'll, we've, they're: 12345 and 3.14159!",
      "ünïcödé “quotes” 日本語 🐳",
    ];
    for (const s of samples)
      assert.deepEqual([...model.tokenize(s, true)], tokenizer.encode(s), JSON.stringify(s));
    await model.dispose();
  });

  it("continues fixed token ids greedily as morelora's generate does", async () => {
    assert.deepEqual(await llamaCppGreedy(baseGguf, prompt), baseTokens);
  });

  it("with an adapter of any method merged in (DoRA)", async () => {
    const model = loadModel(builtin);
    const peft = getPeftModel(model, { method: "dora", r: 4, alpha: 8, targetModules: "all-linear" });
    perturb(peft, 5, 0.2);
    const adapter = join(tmp, "dora");
    peft.save(adapter);
    const want = morelora(PeftModel.load(loadModel(builtin), adapter).model, prompt);
    assert.notDeepEqual(want, baseTokens, "the adapter changes the continuation");
    const merged = join(tmp, "dora.gguf");
    exportGgufModel(builtin, merged, { adapter });
    assert.deepEqual(await llamaCppGreedy(merged, prompt), want);
  });

  it("with a plain LoRA (rsLoRA, a rank pattern) as a GGUF LoRA on the base", async () => {
    const model = loadModel(builtin);
    const peft = getPeftModel(model, {
      method: "lora",
      r: 4,
      alpha: 8,
      useRslora: true,
      rankPattern: { up_proj: 2 },
      targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj"],
    });
    perturb(peft, 6, 0.2);
    peft.baseModelNameOrPath = builtin;
    const adapter = join(tmp, "lora");
    peft.save(adapter);
    const want = morelora(model, prompt);
    assert.notDeepEqual(want, baseTokens, "the adapter changes the continuation");
    // No --base: the adapter records the folder it was made on, as train does.
    const lora = join(tmp, "lora.gguf");
    const exp = spawnSync("node", [cli, "export", "--adapter", adapter, "--out", lora], { encoding: "utf8" });
    assert.equal(exp.status, 0, exp.stderr);
    assert.deepEqual(await llamaCppGreedy(baseGguf, prompt, lora), want);
  });

  /** A random tiny model over the built-in tokenizer (vocab 4096). */
  function tinyFolder(name: string, config: object, shapes: Record<string, number[]>): string {
    const dir = writeFolder(
      join(tmp, name),
      config as Record<string, unknown>,
      randomTensors(shapes, 7, 0.3),
    );
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(builtin, f), join(dir, f));
    return dir;
  }

  const gpt2 = { ...GPT2_CONFIG, vocab_size: 4096, n_positions: 64, n_embd: 32 };
  const qwen2 = {
    ...LLAMA_CONFIG,
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    vocab_size: 4096,
    hidden_size: 32,
  };
  const tinyLlama = { ...LLAMA_CONFIG, vocab_size: 4096, hidden_size: 32 };
  const llama3 = { ...tinyLlama, rope_scaling: LLAMA3_ROPE_SCALING };
  const linear = { ...tinyLlama, rope_scaling: { type: "linear", factor: 4 } };
  for (const [name, dir] of [
    ["GPT-2", () => tinyFolder("gpt2", gpt2, gpt2Shapes(gpt2))],
    ["Qwen2 (q/k/v biases, NeoX RoPE)", () => tinyFolder("qwen2", qwen2, llamaShapes(qwen2, true))],
    [
      "Llama with Llama 3's RoPE scaling (rope_freqs)",
      () => tinyFolder("llama3", llama3, llamaShapes(llama3)),
    ],
    ["Llama with linear RoPE scaling", () => tinyFolder("linear", linear, llamaShapes(linear))],
  ] as const) {
    it(`exports ${name} as llama.cpp continues it`, async () => {
      const folder = dir();
      const gguf = join(folder, "model.gguf");
      exportGgufModel(folder, gguf);
      const want = morelora(loadModel(folder), prompt);
      if (name.includes("scaling"))
        assert.notDeepEqual(
          morelora(loadModel(folder, { config: { rope_scaling: null } }), prompt),
          want,
          "the scaling changes the continuation",
        );
      assert.deepEqual(await llamaCppGreedy(gguf, prompt), want);
    });
  }

  describe("a SentencePiece-style tokenizer (Llama 2's tokenizer.json layout, byte fallback)", () => {
    const folder = join(tmp, "spm");
    const samples = [
      "Call me Ishmael. The whale swam towards the ship",
      "  two  spaces,\n\nnew lines\tand a tab   ",
      "    def sail(ship, sea):\n        return ship",
      "<s>The end.</s> more text</s>",
      "quixotic zephyr, jinxed wizards",
      "naïve café 日本 🐳",
    ];
    let spm: HFTokenizer;
    let vocabSize = 0;
    let config: Record<string, unknown> = {};
    before(() => {
      mkdirSync(folder);
      vocabSize = writeSpmTokenizer(folder);
      config = { ...LLAMA_CONFIG, vocab_size: vocabSize, hidden_size: 32 };
      writeFolder(folder, config, randomTensors(llamaShapes(config as typeof LLAMA_CONFIG), 8, 0.3));
      exportGgufModel(folder, join(folder, "model.gguf"));
      spm = HFTokenizer.load(folder);
    });

    /** llama.cpp's tokens for each sample (special tokens parsed, no BOS added). */
    async function llamaCppTokens(modelPath: string): Promise<number[][]> {
      const model = await llama!.loadModel({ modelPath, vocabOnly: true });
      const out = samples.map((s) => [...model.tokenize(s, true)] as number[]);
      await model.dispose();
      return out;
    }

    it("tokenizes sample strings exactly as morelora, byte fallback and <s> included", async () => {
      const got = await llamaCppTokens(join(folder, "model.gguf"));
      samples.forEach((s, i) =>
        assert.deepEqual(got[i], spm.encode(s, { addSpecialTokens: false }), JSON.stringify(s)),
      );
      assert.equal(spm.encode("a")[0], 1, "morelora's tokenizer adds <s>, as add_bos_token says");
    });

    it("needs the scores derived from the merges: equal scores (llama.cpp's LlamaHfVocab) tokenize differently", async () => {
      // The same file with every score -1000, as llama.cpp's converter writes without tokenizer.model.
      const scores = tokenizerMetadata(folder, vocabSize, config).get("tokenizer.ggml.scores");
      const value = (scores?.value ?? []) as readonly number[];
      const bytes = readFileSync(join(folder, "model.gguf"));
      const at = bytes.indexOf(new Uint8Array(new Float32Array(value).buffer));
      assert.ok(at > 0, "the scores are in the file");
      bytes.set(new Uint8Array(new Float32Array(value.length).fill(-1000).buffer), at);
      const equal = join(tmp, "spm-equal-scores.gguf");
      writeFileSync(equal, bytes);
      const got = await llamaCppTokens(equal);
      assert.ok(
        samples.some(
          (s, i) => JSON.stringify(got[i]) !== JSON.stringify(spm.encode(s, { addSpecialTokens: false })),
        ),
      );
    });

    it("with a Metaspace pre-tokenizer instead of the normalizer (prepend_scheme always, never)", async () => {
      for (const scheme of ["always", "never"]) {
        const dir = join(tmp, `metaspace-${scheme}`);
        mkdirSync(dir);
        for (const f of ["config.json", "model.safetensors"]) copyFileSync(join(folder, f), join(dir, f));
        writeSpmTokenizer(dir, (json) => {
          json.normalizer = null;
          json.pre_tokenizer = {
            type: "Metaspace",
            replacement: "\u2581",
            prepend_scheme: scheme,
            split: false,
          };
        });
        exportGgufModel(dir, join(dir, "model.gguf"));
        const hf = HFTokenizer.load(dir);
        const got = await llamaCppTokens(join(dir, "model.gguf"));
        // Metaspace adds no ▁ to a stretch of text that starts with a space; llama.cpp does (docs/export.md).
        samples.forEach((s, i) => {
          if (scheme === "never" || !/(^|<\/?s>) /.test(s))
            assert.deepEqual(
              got[i],
              hf.encode(s, { addSpecialTokens: false }),
              `${scheme} ${JSON.stringify(s)}`,
            );
        });
      }
    });

    it("continues fixed token ids greedily as morelora's generate does", async () => {
      const ids = spm.encode("Call me Ishmael. Some years ago, the whale");
      assert.deepEqual(
        await llamaCppGreedy(join(folder, "model.gguf"), ids),
        morelora(loadModel(folder), ids),
      );
    });
  });
});
