import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSafetensors } from "../../src/io/index.js";
import { peftFixturesDir } from "../fixtures.js";
import { assertClose } from "../helpers.js";
import { TinyDecoder } from "../support/tiny-decoder.js";

const dir = join(peftFixturesDir(), "base_model");
const skip = !existsSync(dir) && !process.env.CI ? `no fixtures at ${dir}` : false;

describe("nn modules reproduce the PEFT fixtures' base model", { skip }, () => {
  it("TinyDecoder logits equal PyTorch's, in float32 and float64", () => {
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    const model = new TinyDecoder(config);
    const weights = loadSafetensors(join(dir, "model.safetensors"));
    model.loadStateDict(weights);
    const ids = loadSafetensors(join(dir, "inputs.safetensors")).get("input_ids")!;
    const outputs = loadSafetensors(join(dir, "outputs.safetensors"));
    const logits = model.forward(ids);
    assert.deepEqual(logits.shape, [2, 5, 32]);
    assertClose(logits.data, outputs.get("out_base")!.data, {
      rtol: 1e-5,
      atol: 1e-5,
      what: "float32 logits",
    });
    model.toDType("float64");
    assertClose(model.forward(ids).data, outputs.get("out_base_f64")!.data, {
      rtol: 1e-10,
      atol: 1e-10,
      what: "float64 logits",
    });
  });

  it("strict loading names what is wrong", () => {
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    const model = new TinyDecoder(config);
    const weights = loadSafetensors(join(dir, "model.safetensors"));
    weights.delete("lm_head.weight");
    weights.set("extra.weight", weights.get("model.norm.weight")!);
    assert.throws(() => model.loadStateDict(weights), /missing: lm_head\.weight; unexpected: extra\.weight/);
    const { missing, unexpected } = model.loadStateDict(weights, { strict: false });
    assert.deepEqual([missing, unexpected], [["lm_head.weight"], ["extra.weight"]]);
    const wrong = loadSafetensors(join(dir, "model.safetensors"));
    wrong.set("model.norm.weight", wrong.get("model.layers.0.self_attn.q_proj.bias")!.clone());
    wrong.set("model.layers.0.mlp.gate_proj.weight", wrong.get("model.layers.0.mlp.up_proj.weight")!);
    assert.throws(
      () => model.loadStateDict(wrong),
      /gate_proj\.weight: shape \[24, 16\] where the model has \[16, 24\]/,
    );
  });
});
