import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as morelora from "../src/index.js";

describe("the public API", () => {
  it("is a small set of names plus namespaces", () => {
    assert.deepEqual(Object.keys(morelora).sort(), [
      "HFTokenizer",
      "PeftModel",
      "PretrainedModel",
      "Tensor",
      "Trainer",
      "adapters",
      "backend",
      "generate",
      "getPeftModel",
      "io",
      "loadModel",
      "models",
      "native",
      "nn",
      "ops",
      "saveModel",
      "train",
      "trainJob",
    ]);
  });

  it("reaches the rest through the namespaces", () => {
    const { ops, nn, io, adapters, train, backend } = morelora;
    assert.equal(ops.matmul(ops.tensor([[1, 2]]), ops.tensor([[3], [4]])).item(), 11);
    assert.equal(typeof nn.Linear, "function");
    assert.equal(typeof io.saveSafetensors, "function");
    assert.ok(adapters.methodNames().includes("dora"));
    assert.equal(typeof train.AdamW, "function");
    assert.ok(backend.availableBackends().includes("js"));
  });
});
