import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { getPeftModel } from "../../src/adapters/index.js";
import { loadSafetensors, saveSafetensors } from "../../src/io/index.js";
import { type CausalLM, loadModel, saveModel } from "../../src/models/index.js";
import * as T from "../../src/tensor/index.js";
import { Generator, type Tensor } from "../../src/tensor/index.js";
import { weightGemm } from "../../src/tensor/ops/half-gemm.js";
import { type Batch, nextTokenLoss } from "../../src/train/index.js";
import { assertClose } from "../helpers.js";
import {
  GPT2_CONFIG,
  gpt2Shapes,
  LLAMA_CONFIG,
  llamaShapes,
  randomTensors,
  writeFolder,
} from "../support/hf-folders.js";

const BATCH: Batch = {
  ids: T.tensor(Int32Array.from([3, 17, 5, 30, 9, 22, 11, 2, 33, 7, 1, 1]), [2, 6]),
  attentionMask: T.tensor(Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]), [2, 6]),
  targets: T.tensor(Int32Array.from([3, 17, 5, 30, 9, 22, 11, 2, 33, 7, -100, -100]), [2, 6]),
  count: 8,
};

/** A folder whose weights are stored as BF16 (or F16), the way HF checkpoints usually are. */
function halfFolder(
  config: Record<string, unknown>,
  shapes: Record<string, number[]>,
  dtype: "BF16" | "F16",
): string {
  const dir = writeFolder(mkdtempSync(join(tmpdir(), "morelora-half-")), config, new Map());
  const tensors = [...randomTensors(shapes, 3, 0.3)].map(
    ([n, t]): [string, { tensor: Tensor; dtype: "BF16" | "F16" }] => [n, { tensor: t, dtype }],
  );
  saveSafetensors(join(dir, "model.safetensors"), tensors, { format: "pt" });
  return dir;
}

/** Loss and adapter gradients after one backward, loading the folder one way or the other. */
function lossAndGrads(dir: string, halfWeights: boolean, method: string, targets: string[]): number[][] {
  const model = loadModel(dir, { halfWeights });
  const peft = getPeftModel(model, { method, targetModules: targets, seed: 2 });
  T.noGrad(() => {
    for (const [, t] of peft.trainableParameters())
      for (let i = 0; i < t.size; i++) t.data[i] += 0.05 * Math.cos(i);
  });
  const loss = nextTokenLoss(model as unknown as CausalLM, BATCH);
  loss.backward();
  return [[loss.item()], ...peft.trainableParameters().map(([, t]) => Array.from(t.grad!.data))];
}

describe("frozen weights in their file's precision", () => {
  it("weightGemm over a bf16 or f16 weight, in several panels, equals the GEMM over its float32 values", () => {
    const rng = new Generator(4);
    // 8.6 M values: two panels.
    const [m, n, k] = [3, 2100, 4096];
    const a = T.randn([m, k], rng);
    const aT = T.randn([m, n], rng);
    for (const half of ["bfloat16", "float16"] as const) {
      const words = Uint16Array.from({ length: n * k }, () => T.encodeHalf(half, rng.normal(0, 0.1)));
      const w = new T.Tensor(words, [n, k], half);
      const wide = w.to("float32");
      const run = (weight: Tensor, transB: boolean): Float32Array => {
        const c = new Float32Array(transB ? m * n : m * k).fill(1);
        weightGemm(
          transB
            ? { transB, m, n, k, beta: 1, a: a.floatData, w: weight, c }
            : { transB, m, n: k, k: n, beta: 0, a: aT.floatData, w: weight, c },
        );
        return c;
      };
      for (const transB of [true, false])
        assertClose(run(w, transB), run(wide, transB), {
          rtol: 1e-4,
          atol: 1e-4,
          what: `${half} transB ${transB}`,
        });
    }
  });

  for (const [label, config, shapes, method, targets] of [
    [
      "Llama (tied head), LoRA",
      { ...LLAMA_CONFIG, tie_word_embeddings: true },
      llamaShapes({ ...LLAMA_CONFIG, tie_word_embeddings: true }),
      "lora",
      ["q_proj", "v_proj"],
    ],
    ["Llama, DoRA", LLAMA_CONFIG, llamaShapes(LLAMA_CONFIG), "dora", ["q_proj", "down_proj"]],
    ["Llama, CondLoRA", LLAMA_CONFIG, llamaShapes(LLAMA_CONFIG), "condlora", ["q_proj"]],
    ["GPT-2 (Conv1D), LoRA", GPT2_CONFIG, gpt2Shapes(), "lora", ["c_attn", "c_fc"]],
  ] as [string, Record<string, unknown>, Record<string, number[]>, string, string[]][]) {
    it(`${label}: loss and gradients equal those of the float32 upcast, bitwise`, () => {
      for (const dtype of ["BF16", "F16"] as const) {
        const dir = halfFolder(config, shapes, dtype);
        const half = loadModel(dir, { halfWeights: true });
        const kept = half.namedParameters().filter(([, t]) => t.half);
        assert.ok(kept.length >= 5, "matrices are kept in half precision");
        assert.ok(
          half
            .namedParameters()
            .some(([n, t]) => (n.endsWith("norm.weight") || n.endsWith("ln_f.weight") ? !t.half : false)),
        );
        assert.deepEqual(lossAndGrads(dir, true, method, targets), lossAndGrads(dir, false, method, targets));
      }
    });
  }

  it("saves half weights in their format, bytes unchanged; training the model in full widens them first", () => {
    const dir = halfFolder(LLAMA_CONFIG, llamaShapes(LLAMA_CONFIG), "BF16");
    const model = loadModel(dir, { halfWeights: true });
    const out = mkdtempSync(join(tmpdir(), "morelora-half-out-"));
    saveModel(model, out);
    const before = loadSafetensors(join(dir, "model.safetensors"));
    const after = loadSafetensors(join(out, "model.safetensors"));
    for (const [name, t] of before) assert.deepEqual(after.get(name)!.data, t.data, name);
    model.widenHalves();
    assert.ok(model.namedParameters().every(([, t]) => !t.half));
  });
});
