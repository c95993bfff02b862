import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  type AdapterConfigInput,
  AdapterLayer,
  denseDelta,
  getPeftModel,
  PeftModel,
} from "../../src/adapters/index.js";
import { ModulesToSaveLayer } from "../../src/adapters/saved-modules.js";
import { loadSafetensors, saveSafetensors } from "../../src/io/index.js";
import { Linear } from "../../src/nn/index.js";
import * as T from "../../src/tensor/index.js";
import { Generator, noGrad } from "../../src/tensor/index.js";
import { assertClose } from "../helpers.js";
import { logits, perturb, smallDecoder } from "./support.js";

const tmp = (): string => mkdtempSync(join(tmpdir(), "morelora-peft-"));

describe("PeftModel", () => {
  it("freezes the base and trains only the active adapter", () => {
    const peft = getPeftModel(smallDecoder(), { targetModules: ["q_proj", "v_proj"], r: 2 });
    const names = peft.trainableParameters().map(([n]) => n);
    assert.equal(names.length, 8);
    assert.ok(names.every((n) => /\.(q|v)_proj\.lora_[AB]\.default\.weight$/.test(n)));
    peft.addAdapter("second", { targetModules: ["q_proj"], r: 2 });
    assert.equal(peft.trainableParameters().length, 8, "adding keeps the active adapter");
    peft.setAdapter("second");
    assert.ok(peft.trainableParameters().every(([n]) => n.includes(".second.")));
    assert.match(
      peft.printTrainableParameters(() => {}),
      /^trainable params: 64 \|\| all params: [\d,]+ \|\| trainable%: \d+\.\d{4}$/,
    );
  });

  it("an adapter takes the mode of the model it joins: on a model in eval mode its dropout stays off", () => {
    const model = smallDecoder().eval();
    const peft = getPeftModel(model, {
      targetModules: ["q_proj", "v_proj"],
      dropout: 0.5,
      modulesToSave: ["lm_head"],
    });
    perturb(peft);
    assert.ok(model.namedModules().every(([, m]) => !m.training));
    assert.deepEqual(logits(peft).toArray(), logits(peft).toArray());
    model.train();
    assert.notDeepEqual(logits(peft).toArray(), logits(peft).toArray());
    // Loading a saved adapter is for inference, as PEFT's from_pretrained: eval mode whatever the model's.
    const dir = tmp();
    peft.save(dir);
    const loaded = PeftModel.load(smallDecoder().train(), dir);
    assert.deepEqual(logits(loaded).toArray(), logits(loaded).toArray());
  });

  it("rejects a config that matches nothing, naming the patterns and listing the modules", () => {
    assert.throws(
      () => getPeftModel(smallDecoder(), { targetModules: ["query"] }),
      /targetModules \["query"\] matched no module; .*model\.layers\.0\.self_attn\.q_proj/,
    );
    assert.throws(
      () => getPeftModel(smallDecoder(), { targetModules: ["q_proj"], method: "hadamard", r: 3 }),
      /r = 3 must be divisible by k = 2/,
    );
    assert.throws(
      () =>
        getPeftModel(smallDecoder(), {
          targetModules: ["q_proj"],
          method: "hadamard",
          activation: "sigmoid",
        }),
      /needs init "better"/,
    );
    assert.throws(
      () => getPeftModel(smallDecoder(), { targetModules: ["q_proj"], rank: 4 } as never),
      /unknown field "rank"/,
    );
    assert.throws(
      () => getPeftModel(smallDecoder(), { targetModules: ["embed_tokens"], method: "moslora" }),
      /moslora cannot adapt model\.embed_tokens/,
    );
    const model = smallDecoder();
    assert.throws(() =>
      getPeftModel(model, { targetModules: ["q_proj", "embed_tokens"], method: "additive" }),
    );
    assert.ok(
      !(model.getSubmodule("model.layers.0.self_attn.q_proj") instanceof AdapterLayer),
      "a rejected config leaves the model as it was",
    );
  });

  it("matches a regex by full path, all-linear without the head, and only the layers asked", () => {
    const paths = (config: Parameters<typeof getPeftModel>[1]) =>
      getPeftModel(smallDecoder(), config)
        .layers()
        .map(([p]) => p);
    assert.deepEqual(paths({ targetModules: ".*\\.1\\.self_attn\\.(q|k)_proj" }), [
      "model.layers.1.self_attn.q_proj",
      "model.layers.1.self_attn.k_proj",
    ]);
    const all = paths({ targetModules: "all-linear" });
    assert.equal(all.length, 14);
    assert.ok(!all.includes("lm_head") && !all.includes("model.embed_tokens"));
    assert.deepEqual(paths({ targetModules: ["q_proj"], layersToTransform: [1] }), [
      "model.layers.1.self_attn.q_proj",
    ]);
  });

  it("disableAdapter is scoped; deleteAdapter puts the original modules back", () => {
    const model = smallDecoder();
    const base = noGrad(() => model.forward(T.tensor([[1, 2, 3]], { dtype: "int32" })));
    const peft = getPeftModel(model, { targetModules: ["q_proj", "down_proj"] });
    perturb(peft);
    const ids = T.tensor([[1, 2, 3]], { dtype: "int32" });
    assertClose(peft.disableAdapter(() => peft.forward(ids)).data, base.data, { rtol: 0, atol: 0 });
    assert.throws(
      () =>
        peft.disableAdapter(() => {
          throw new Error("inside");
        }),
      /inside/,
    );
    assert.notDeepEqual(peft.forward(ids).toArray(), base.toArray());
    peft.deleteAdapter("default");
    assert.ok(model.getSubmodule("model.layers.0.self_attn.q_proj") instanceof Linear);
    assert.deepEqual(noGrad(() => model.forward(ids)).toArray(), base.toArray());
  });

  it("modulesToSave and bias 'all' are trained, saved under PEFT's names and restored", () => {
    const peft = getPeftModel(smallDecoder(), {
      targetModules: ["q_proj"],
      modulesToSave: ["lm_head"],
      bias: "all",
    });
    assert.ok(peft.model.getSubmodule("lm_head") instanceof ModulesToSaveLayer);
    const names = peft.trainableParameters().map(([n]) => n);
    assert.ok(names.includes("lm_head.modules_to_save.default.weight"));
    assert.ok(names.includes("model.layers.0.self_attn.q_proj.base_layer.bias"));
    assert.ok(names.includes("model.layers.0.self_attn.k_proj.bias"));
    perturb(peft);
    const before = logits(peft);
    const dir = tmp();
    peft.save(dir);
    const file = loadSafetensors(join(dir, "adapter_model.safetensors"));
    assert.ok(file.has("base_model.model.lm_head.weight"));
    assert.ok(file.has("base_model.model.model.layers.1.self_attn.k_proj.bias"));
    assert.ok(file.has("base_model.model.model.layers.1.self_attn.q_proj.base_layer.bias"));
    assertClose(logits(PeftModel.load(smallDecoder(), dir)).data, before.data, { rtol: 0, atol: 0 });
    const merged = peft.mergeAndUnload();
    assert.ok(merged.getSubmodule("lm_head") instanceof Linear);
    assertClose(
      noGrad(() =>
        merged.forward(
          T.tensor(
            [
              [1, 5, 2, 9, 3],
              [7, 0, 4, 4, 15],
            ],
            { dtype: "int32" },
          ),
        ),
      ).data,
      before.data,
      {
        rtol: 1e-9,
        atol: 1e-10,
      },
    );
    assert.throws(() => peft.forward(T.tensor([[1]], { dtype: "int32" })), /merged and unloaded/);
  });

  it("modulesToSave as PEFT: names match by key.endswith (no dot boundary) and are never also adapted", () => {
    const saved = (modulesToSave: string[], targetModules: string[] = ["q_proj"]) => {
      const peft = getPeftModel(smallDecoder(), { targetModules, modulesToSave });
      return {
        saved: peft.model
          .namedModules()
          .filter(([, m]) => m instanceof ModulesToSaveLayer)
          .map(([p]) => p),
        adapted: peft.layers().map(([p]) => p),
        peft,
      };
    };
    // "norm" ends input_layernorm, post_attention_layernorm and model.norm, as in PEFT.
    assert.deepEqual(saved(["norm"]).saved, [
      "model.layers.0.input_layernorm",
      "model.layers.0.post_attention_layernorm",
      "model.layers.1.input_layernorm",
      "model.layers.1.post_attention_layernorm",
      "model.norm",
    ]);
    const both = saved(["lm_head"], ["q_proj", "lm_head"]);
    assert.deepEqual(both.saved, ["lm_head"]);
    assert.ok(!both.adapted.includes("lm_head"), "a module to save gets no adapter");
    perturb(both.peft);
    const dir = tmp();
    both.peft.save(dir);
    const file = loadSafetensors(join(dir, "adapter_model.safetensors"));
    assert.ok(file.has("base_model.model.lm_head.weight"));
    assert.ok(![...file.keys()].some((k) => k.includes("original_module") || k.includes("lm_head.lora")));
    assertClose(logits(PeftModel.load(smallDecoder(), dir)).data, logits(both.peft).data, {
      rtol: 0,
      atol: 0,
    });
    assert.throws(() => saved(["lm_heads"]), /modulesToSave: no module path ends with "lm_heads"/);
    assert.deepEqual(saved(["score", "classifier"]).saved, [], "PEFT's SEQ_CLS head names may match nothing");
  });

  it("saves all-linear as the module names it resolved to, and a model card that says how to load the folder", () => {
    const peft = getPeftModel(smallDecoder(), { targetModules: "all-linear", method: "moslora" });
    const dir = tmp();
    peft.save(dir);
    const config = JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8"));
    const names = peft.layers().map(([p]) => p.slice(p.lastIndexOf(".") + 1));
    assert.deepEqual([...config.target_modules].sort(), [...new Set(names)].sort());
    assert.ok(!config.target_modules.includes("lm_head"));
    const card = readFileSync(join(dir, "README.md"), "utf8");
    assert.match(card, /^---\nlibrary_name: morelora\n/);
    assert.match(card, /PEFT cannot load this folder: `MORELORA_MOSLORA`/);
    assert.match(card, /morelora merge --base BASE --adapter DIR --out merged\//);
    const lora = tmp();
    getPeftModel(smallDecoder(), { targetModules: ["q_proj"] }).save(lora);
    assert.match(readFileSync(join(lora, "README.md"), "utf8"), /PEFT loads this folder as it is/);
  });

  it("refuses the layer selections PEFT refuses, with the reason", () => {
    for (const [config, pattern] of [
      [
        { targetModules: "all-linear", layersToTransform: [0] },
        /"layersToTransform" cannot be used when "targetModules" is a regex or "all-linear"/,
      ],
      [{ targetModules: ".*q_proj", layersToTransform: [0] }, /"layersToTransform" cannot be used/],
      [{ targetModules: ["q_proj"], layersPattern: "layers" }, /"layersPattern" needs "layersToTransform"/],
    ] as [AdapterConfigInput, RegExp][]) {
      assert.throws(() => getPeftModel(smallDecoder(), config), pattern);
    }
  });

  it("combineAdapters: 'cat' adds the weighted updates exactly, 'linear' follows PEFT", () => {
    const peft = getPeftModel(smallDecoder(), { targetModules: ["q_proj"], r: 2, alpha: 4 });
    peft.addAdapter("b", { targetModules: ["q_proj"], r: 2, alpha: 2, seed: 9 });
    perturb(peft);
    peft.setAdapter("b");
    perturb(peft, 4);
    peft.combineAdapters(["default", "b"], [0.5, 2], "cat", "cat");
    peft.combineAdapters(["default", "b"], [0.5, 2], "linear", "lin");
    for (const [, layer] of peft.layers()) {
      const d = (n: string) => denseDelta(layer.adapter(n)!.delta());
      assertClose(d("cat").data, T.add(T.mulScalar(d("default"), 0.5), T.mulScalar(d("b"), 2)).data, {
        rtol: 1e-10,
        atol: 1e-12,
      });
      const [a1, b1] = [...layer.adapter("default")!.tensors.values()];
      const [a2, b2] = [...layer.adapter("b")!.tensors.values()];
      const f1 = Math.sqrt(0.5 * 2);
      const f2 = Math.sqrt(2 * 1);
      const want = T.matmul(
        T.add(T.mulScalar(b1, f1), T.mulScalar(b2, f2)),
        T.add(T.mulScalar(a1, f1), T.mulScalar(a2, f2)),
      );
      assertClose(d("lin").data, want.data, { rtol: 1e-10, atol: 1e-12 });
    }
    assert.equal(peft.config("cat").r, 4);
  });

  it("merge(adapterNames) folds several adapters, unmerge restores the base; save writes every adapter as PEFT", () => {
    const peft = getPeftModel(smallDecoder(), { targetModules: ["q_proj", "v_proj"], r: 2 });
    peft.addAdapter("b", { targetModules: ["q_proj"], r: 2, method: "loha", seed: 9 });
    perturb(peft);
    peft.setAdapter("b");
    perturb(peft, 4);
    peft.setAdapter("default");
    const base = new Map([...peft.layers()].map(([p, l]) => [p, l.view.dense().clone()]));
    const want = new Map(
      peft.layers().map(([p, l]) => {
        let w = base.get(p)!;
        for (const n of ["default", "b"]) if (l.adapter(n)) w = T.add(w, denseDelta(l.adapter(n)!.delta()));
        return [p, w];
      }),
    );
    assert.throws(() => peft.merge(["default", "nope"]), /no adapter "nope"/);
    peft.merge(["default", "b"]);
    for (const [p, l] of peft.layers())
      assertClose(l.view.dense().data, want.get(p)!.data, { rtol: 1e-10, atol: 1e-12 });
    peft.unmerge();
    for (const [p, l] of peft.layers())
      assertClose(l.view.dense().data, base.get(p)!.data, { rtol: 1e-12, atol: 1e-14 });

    const dir = tmp();
    peft.baseModelNameOrPath = "models/tiny";
    peft.taskType = "CAUSAL_LM";
    peft.save(dir);
    const config = (d: string) => JSON.parse(readFileSync(join(d, "adapter_config.json"), "utf8"));
    assert.equal(config(dir).peft_type, "LORA");
    assert.equal(config(join(dir, "b")).peft_type, "LOHA");
    for (const d of [dir, join(dir, "b")]) {
      assert.equal(config(d).task_type, "CAUSAL_LM");
      assert.equal(config(d).base_model_name_or_path, "models/tiny");
    }
    const again = PeftModel.load(smallDecoder(), dir).loadAdapter(join(dir, "b"), "b");
    for (const n of ["default", "b"]) {
      for (const [k, t] of peft.adapterTensors(n))
        assert.deepEqual(again.adapterTensors(n).get(k)!.data, t.data);
    }
  });

  it("DyLoRA samples one rank per step for every module", () => {
    const peft = getPeftModel(smallDecoder(), {
      method: "dylora",
      targetModules: ["q_proj", "v_proj"],
      r: 4,
    });
    const rng = new Generator(3);
    const ranksInUse = (): number[] =>
      peft.layers().map(([, layer]) => {
        const delta = layer.adapter("default")!.delta();
        return delta.kind === "low-rank" ? delta.a.shape[0] : 0;
      });
    const ranks = new Set<number>();
    for (let step = 0; step < 40; step++) {
      peft.beginTrainingStep(rng);
      const drawn = ranksInUse();
      assert.ok(
        drawn.every((k) => k === drawn[0]),
        `one rank for every module, got ${drawn}`,
      );
      ranks.add(drawn[0]);
    }
    assert.deepEqual([...ranks].sort(), [1, 2, 3, 4]);
    peft.setRank(2);
    for (const [, layer] of peft.layers()) {
      const delta = layer.adapter("default")!.delta();
      assert.equal(delta.kind === "low-rank" && delta.a.shape[0], 2);
    }
    assert.equal(peft.config().dyloraRank, 2, "an explicit rank is the one saved");
    perturb(peft);
    const dir = tmp();
    peft.save(dir);
    const loaded = PeftModel.load(smallDecoder(), dir);
    assert.equal(loaded.config().dyloraRank, 2);
    assert.deepEqual(logits(loaded).toArray(), logits(peft).toArray());
  });

  it("loading names the key on bad files and leaves the model unchanged", () => {
    const peft = getPeftModel(smallDecoder(), { targetModules: ["q_proj"], r: 2 });
    const dir = tmp();
    peft.save(dir);
    const weights = join(dir, "adapter_model.safetensors");
    const tensors = loadSafetensors(weights);
    const key = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
    saveSafetensors(
      weights,
      new Map([...tensors, [key, T.zeros([3, 8])], ["base_model.model.extra", T.zeros([1])]]),
    );
    const model = smallDecoder();
    assert.throws(
      () => PeftModel.load(model, dir),
      (e: Error) =>
        /lora_A\.weight" has shape \[3, 8\], the config \(lora, r = 2\) needs \[2, 8\]/.test(e.message) &&
        /unknown tensor "base_model\.model\.extra"/.test(e.message),
    );
    assert.ok(model.getSubmodule("model.layers.0.self_attn.q_proj") instanceof Linear);
    tensors.delete(key);
    saveSafetensors(weights, tensors);
    assert.throws(
      () => PeftModel.load(smallDecoder(), dir),
      /missing tensors: base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight/,
    );
    const config = join(dir, "adapter_config.json");
    const json = JSON.parse(readFileSync(config, "utf8"));
    writeFileSync(config, JSON.stringify({ ...json, peft_type: "IA3" }));
    assert.throws(
      () => PeftModel.load(smallDecoder(), dir),
      /adapter_config\.json: unsupported "peft_type" "IA3"/,
    );
    writeFileSync(config, JSON.stringify({ ...json, r: -1 }));
    assert.throws(
      () => PeftModel.load(smallDecoder(), dir),
      /adapter_config\.json: adapter config "r": expected a positive integer, got -1/,
    );
    writeFileSync(config, "{");
    assert.throws(() => PeftModel.load(smallDecoder(), dir), /adapter_config\.json: invalid JSON/);
  });
});
