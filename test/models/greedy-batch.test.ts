import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generate, type Generative, greedyBatch } from "../../src/models/index.js";
import { GPT2 } from "../support/two-steps.js";
import { LLAMA_CONFIG } from "../support/hf-folders.js";
import { randomModel } from "../support/random-model.js";

const PROMPTS = [
  [3, 17, 5, 30],
  [9, 22, 11, 2],
  [33, 7, 39, 1],
  [12, 12, 12, 12],
];
const LIMITS = [7, 7, 3, 0];

/** Each prompt decoded alone by generate(), at temperature 0. */
function alone(model: Generative, stops: number[]): number[][] {
  return PROMPTS.map((p, i) =>
    generate(model, p, { maxNewTokens: LIMITS[i], stopTokens: stops }).slice(0, LIMITS[i]),
  );
}

describe("greedyBatch: same-length prompts decoded together", () => {
  it("Llama: each row is what generate() gives its prompt alone, with its own limit and stop token", () => {
    const model = randomModel(LLAMA_CONFIG) as unknown as Generative;
    // Row 1 stops at the first token it produces; the others run on.
    const stop = generate(model, PROMPTS[1], { maxNewTokens: 1 })[0];
    const got = greedyBatch(model, PROMPTS, LIMITS, [stop]);
    assert.deepEqual(got, alone(model, [stop]));
    assert.deepEqual(got[1], [stop]);
    assert.equal(got[3].length, 0);
    assert.ok(got[0].length > 1, "row 0 ran on after row 1 stopped");
  });

  it("GPT-2: each row is what generate() gives its prompt alone, to its own limit", () => {
    const model = randomModel(GPT2, { std: 0.02 }) as unknown as Generative;
    const got = greedyBatch(model, PROMPTS, LIMITS);
    assert.deepEqual(got, alone(model, []));
    assert.deepEqual(
      got.map((row) => row.length),
      LIMITS,
    );
  });

  it("refuses prompts of different lengths", () => {
    const model = randomModel(LLAMA_CONFIG) as unknown as Generative;
    assert.throws(() => greedyBatch(model, [[1, 2], [3]], [2, 2]), /of one length/);
  });
});
