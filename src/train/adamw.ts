import { type FloatArray, getBackend } from "../backend/index.js";
import { allocate, type Tensor } from "../tensor/index.js";

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/**
 * torch.optim.AdamW with its defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01):
 * one fused backend kernel per parameter, state kept beside each parameter.
 */
export class AdamW {
  readonly lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly state = new Map<Tensor, { m: FloatArray; v: FloatArray }>();
  private steps = 0;

  constructor(
    readonly params: readonly Tensor[],
    { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0.01 }: AdamWOptions = {},
  ) {
    this.lr = lr;
    this.betas = betas;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  /** Updates every parameter that has a gradient, in place. */
  step(): void {
    this.steps++;
    const backend = getBackend();
    for (const p of this.params) {
      if (!p.grad) continue;
      let s = this.state.get(p);
      if (!s) {
        s = { m: allocate(p.dtype, p.size) as FloatArray, v: allocate(p.dtype, p.size) as FloatArray };
        this.state.set(p, s);
      }
      backend.adamw(p.floatData, p.grad.floatData, s.m, s.v, {
        lr: this.lr,
        beta1: this.betas[0],
        beta2: this.betas[1],
        eps: this.eps,
        weightDecay: this.weightDecay,
        step: this.steps,
      });
    }
  }

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }
}
