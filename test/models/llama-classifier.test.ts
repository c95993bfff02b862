import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type LlamaForSequenceClassification, loadModel } from "../../src/models/index.js";
import * as T from "../../src/tensor/index.js";
import { noGrad } from "../../src/tensor/index.js";
import { assertClose } from "../helpers.js";
import { LLAMA_CONFIG, llamaShapes, randomTensors, writeFolder } from "../support/hf-folders.js";

describe("LlamaForSequenceClassification", () => {
  it("loads a causal-LM checkpoint with a fresh score head and pools the last real token", () => {
    const dir = writeFolder(
      mkdtempSync(join(tmpdir(), "morelora-cls-")),
      LLAMA_CONFIG,
      randomTensors(llamaShapes(LLAMA_CONFIG), 21, 0.4),
    );
    const warnings: string[] = [];
    const model = loadModel(dir, {
      dtype: "float64",
      config: {
        architectures: ["LlamaForSequenceClassification"],
        id2label: { 0: "a", 1: "b", 2: "c" },
        pad_token_id: 0,
      },
      warn: (m) => warnings.push(m),
    }) as LlamaForSequenceClassification;
    assert.match(warnings.join(), /score\.weight not in the checkpoint/);
    const alone = noGrad(() => model.forward(T.tensor([[5, 6, 7]], { dtype: "int32" })));
    assert.deepEqual(alone.shape, [1, 3]);
    const ids = T.tensor(
      [
        [5, 6, 7, 0, 0],
        [9, 8, 7, 6, 5],
      ],
      { dtype: "int32" },
    );
    const masked = noGrad(() =>
      model.forward(ids, {
        attentionMask: T.tensor(
          [
            [1, 1, 1, 0, 0],
            [1, 1, 1, 1, 1],
          ],
          { dtype: "int32" },
        ),
      }),
    );
    assertClose(masked.data.subarray(0, 3), alone.data, { rtol: 1e-9, atol: 1e-12 });
    const byPadToken = noGrad(() => model.forward(ids));
    assertClose(byPadToken.data, masked.data, { rtol: 1e-9, atol: 1e-12 });
  });
});
