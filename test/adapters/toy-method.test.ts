import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { mergeAdapterFolder } from "../../src/adapters/index.js";
import { methodNames, optionTable, PeftModel, registerMethod } from "../../src/adapters/index.js";
import { inspectAdapter } from "../../src/adapters/index.js";
import { loadSafetensors } from "../../src/io/index.js";
import { type LlamaForCausalLM, loadModel } from "../../src/models/index.js";
import * as T from "../../src/tensor/index.js";
import { noGrad } from "../../src/tensor/index.js";
import { trainJob } from "../../src/train/index.js";
import { assertClose } from "../helpers.js";
import { tinyLlamaFolder } from "../support/hf-folders.js";
import { toy } from "./toy-method.js";

// The only line a new method needs besides its file (here, in the tests' own registry copy).
registerMethod(toy);

const WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran"];
const IDS = T.tensor([[3, 4, 5, 6, 3, 7]], { dtype: "int32" });

describe("a method added as one file and one registration", () => {
  it("is listed with its option in the registry", () => {
    assert.ok(methodNames().includes("toy"));
    assert.deepEqual(
      optionTable().find((o) => o.key === "toyGain"),
      { key: "toyGain", type: "number", default: 1, help: "toy: a factor on ΔW", methods: ["toy"] },
    );
  });

  it("trains, saves, loads, merges and inspects with no other file touched", async () => {
    const dir = tinyLlamaFolder(WORDS, 5, 0.3);
    const data = join(dir, "d.jsonl");
    const texts = ["the cat sat on the mat", "a dog ran", "the dog sat on a mat", "a cat ran"];
    writeFileSync(data, texts.map((text) => JSON.stringify({ text })).join("\n"));
    mkdirSync(join(dir, "run"));
    const result = await trainJob({
      model: dir,
      data,
      valRatio: 0,
      maxLength: 16,
      adapter: { method: "toy", r: 4, alpha: 8, targetModules: ["q_proj", "v_proj"], toyGain: 2 },
      train: { batchSize: 2, maxSteps: 20, lr: 2e-2, outDir: join(dir, "run") },
    });
    const losses = result.trainer.history.flatMap((e) => (e.loss === undefined ? [] : [e.loss]));
    assert.ok(losses.at(-1)! < losses[0], `loss ${losses[0]} -> ${losses.at(-1)}`);

    // Saved under its own names and type, its option in the "morelora" block.
    const saved = result.saved!;
    const config = JSON.parse(readFileSync(join(saved, "adapter_config.json"), "utf8"));
    assert.equal(config.peft_type, "MORELORA_TOY");
    assert.equal(config.morelora.toy_gain, 2);
    const file = loadSafetensors(join(saved, "adapter_model.safetensors"));
    assert.ok(
      [...file.keys()].every((k) => /\.(q|v)_proj\.toy_[PQ]\.weight$/.test(k)),
      [...file.keys()].join(),
    );

    // Loaded onto a fresh model: the adapter changes the output.
    const peft = PeftModel.load(loadModel(dir) as LlamaForCausalLM, saved);
    assert.equal(peft.config().toyGain, 2);
    const adapted = noGrad(() => peft.forward(IDS));
    const base = peft.disableAdapter(() => noGrad(() => peft.forward(IDS)));
    assert.ok(
      T.sum(T.abs(T.sub(adapted, base))).item() > 1e-3,
      "the trained adapter should change the output",
    );

    // File-level merge folds the toy tensors into the base weights: the merged model computes the same.
    const merged = join(dir, "merged");
    const { modules } = mergeAdapterFolder(dir, saved, merged);
    assert.deepEqual(
      modules.sort(),
      peft
        .layers()
        .map(([path]) => path)
        .sort(),
    );
    const plain = loadModel(merged) as LlamaForCausalLM;
    assertClose(noGrad(() => plain.forward(IDS)).data, adapted.data, {
      rtol: 1e-4,
      atol: 1e-5,
      what: "merged",
    });

    // inspect: every module with ‖ΔW‖ = ‖s·g·P Q‖, computed here from the file's tensors.
    const summary = inspectAdapter(saved);
    assert.equal(summary.method, "toy");
    assert.deepEqual(summary.otherTensors, []);
    assert.equal(summary.modules.length, modules.length);
    for (const m of summary.modules) {
      const p = file.get(`base_model.model.${m.path}.toy_P.weight`)!.to("float64");
      const q = file.get(`base_model.model.${m.path}.toy_Q.weight`)!.to("float64");
      const [rows, r] = p.shape;
      const cols = q.shape[1];
      let sq = 0;
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < cols; j++) {
          let dot = 0;
          for (let k = 0; k < r; k++) dot += p.data[i * r + k] * q.data[k * cols + j];
          sq += (2 * 2 * dot) ** 2;
        }
      assertClose([m.deltaNorm!], [Math.sqrt(sq)], { rtol: 1e-5, what: `‖ΔW‖ of ${m.path}` });
      assert.equal(m.parameters, r * (rows + cols));
    }
  });
});
