import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { methodNames } from "../../src/adapters/index.js";
import { recyclingCounts, setStoragePooling } from "../../src/tensor/storage-pool.js";
import { LLAMA_CONFIG } from "../support/hf-folders.js";
import { BERT, GPT2, twoSteps } from "../support/two-steps.js";

/** Two training steps with recycling off, then on for buffers of every size: the same bits. */
function assertSame(
  config: Record<string, unknown>,
  method: string,
  targets: string[],
  checkpoint: boolean,
): void {
  setStoragePooling(false);
  const plain = twoSteps(config, method, targets, checkpoint);
  setStoragePooling(true, { minBytes: 0 });
  const pooled = twoSteps(config, method, targets, checkpoint);
  const { reused } = recyclingCounts();
  setStoragePooling(true);
  assert.ok(reused > 0, "the backward reused no buffer");
  assert.deepEqual(pooled.losses, plain.losses);
  assert.ok(plain.grads.size > 0);
  for (const [name, g] of plain.grads)
    assert.deepEqual(pooled.grads.get(name), g, `${name}: gradients differ`);
}

describe("recycled gradient storage gives bitwise the losses and gradients without it", () => {
  after(() => setStoragePooling(true));
  for (const method of methodNames())
    for (const checkpoint of [false, true])
      it(`Llama, ${method} on q_proj, v_proj, down_proj${checkpoint ? ", checkpointed" : ""}`, () =>
        assertSame(LLAMA_CONFIG, method, ["q_proj", "v_proj", "down_proj"], checkpoint));
  it("GPT-2, lora on c_attn and c_fc", () => assertSame(GPT2, "lora", ["c_attn", "c_fc"], false));
  it("BERT classifier, dora on query and value", () => assertSame(BERT, "dora", ["query", "value"], false));
});
