import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { methodNames } from "../../src/adapters/index.js";
import { LLAMA_CONFIG } from "../support/hf-folders.js";
import { BERT, GPT2, twoSteps } from "../support/two-steps.js";

function assertSame(config: Record<string, unknown>, method: string, targets: string[]): void {
  const plain = twoSteps(config, method, targets, false);
  const recomputed = twoSteps(config, method, targets, true);
  assert.deepEqual(recomputed.losses, plain.losses);
  // Dropout is live: the two steps drew different masks.
  assert.notEqual(plain.losses[0], plain.losses[1]);
  assert.ok(plain.grads.size > 0);
  for (const [name, g] of plain.grads) {
    assert.ok(
      g.some((v) => v !== 0),
      `${name}: zero gradient`,
    );
    assert.deepEqual(recomputed.grads.get(name), g, `${name}: gradients differ with checkpointing`);
  }
}

describe("gradient checkpointing gives bitwise the gradients of the plain backward, with dropout", () => {
  for (const method of methodNames())
    it(`Llama, ${method} on q_proj, v_proj, down_proj`, () =>
      assertSame(LLAMA_CONFIG, method, ["q_proj", "v_proj", "down_proj"]));
  it("GPT-2, lora on c_attn and c_fc", () => assertSame(GPT2, "lora", ["c_attn", "c_fc"]));
  it("BERT classifier, dora on query and value", () => assertSame(BERT, "dora", ["query", "value"]));
});
