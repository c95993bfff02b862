import { Linear, init } from "../../src/nn/index.js";
import * as T from "../../src/tensor/index.js";
import { Generator, type Tensor } from "../../src/tensor/index.js";
import { AdamW } from "../../src/train/optimizer.js";

/**
 * Linear 768→3072 (bias), GELU (erf), Linear 3072→768 (bias) on a 4096×768 batch, base frozen,
 * LoRA r=16 alpha=32 on both layers (A kaiming-uniform, B zero), loss mean((y - t)²), AdamW 1e-3.
 * Returns one training step (forward + backward + optimizer step).
 */
export function mlpLoraStep(rows = 4096, dim = 768, hidden = 3072, r = 16, alpha = 32): () => void {
  const rng = new Generator(0);
  const fc1 = new Linear(dim, hidden, { rng }).requiresGrad(false);
  const fc2 = new Linear(hidden, dim, { rng }).requiresGrad(false);
  const lora = (inF: number, outF: number): { a: Tensor; b: Tensor } => ({
    a: init.kaimingUniform_(T.zeros([r, inF]), rng).requireGrad(),
    b: T.zeros([outF, r]).requireGrad(),
  });
  const l1 = lora(dim, hidden);
  const l2 = lora(hidden, dim);
  const scale = alpha / r;
  const x = T.randn([rows, dim], rng);
  const target = T.randn([rows, dim], rng);
  const opt = new AdamW([l1.a, l1.b, l2.a, l2.b], { lr: 1e-3 });
  const adapted = (layer: Linear, l: { a: Tensor; b: Tensor }, input: Tensor): Tensor =>
    T.linear(input, layer.weight, { bias: layer.bias, lowRank: { ...l, scale } });
  return () => {
    opt.zeroGrad();
    const h = T.gelu(adapted(fc1, l1, x));
    const d = T.sub(adapted(fc2, l2, h), target);
    T.mean(T.mul(d, d)).backward();
    opt.step();
  };
}
