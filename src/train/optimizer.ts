import { type FloatArray, getBackend } from "../backend/index.js";
import { allocate, type Tensor } from "../tensor/index.js";
import * as T from "../tensor/index.js";

export type NamedParameter = [string, Tensor];

/** Parameters sharing settings (e.g. no weight decay on biases, norms and DoRA's magnitudes). */
export interface ParamGroup {
  params: NamedParameter[];
  /** Overrides the optimizer's weight decay for this group. */
  weightDecay?: number;
}

/**
 * HF practice: no weight decay on biases and norm weights, nor on what the target exempts (an
 * adapter method's own, e.g. DoRA's magnitudes).
 */
export function defaultParamGroups(
  params: NamedParameter[],
  alsoExempt: (name: string) => boolean = () => false,
): ParamGroup[] {
  const exempt = (name: string): boolean =>
    /(^|\.)bias$|norm\.weight$|LayerNorm\.weight$|ln_\w+\.weight$/.test(name) || alsoExempt(name);
  const groups: ParamGroup[] = [
    { params: params.filter(([n]) => !exempt(n)) },
    { params: params.filter(([n]) => exempt(n)), weightDecay: 0 },
  ];
  return groups.filter((g) => g.params.length > 0);
}

/** An optimizer's state by parameter name: tensors plus the step count of each parameter. */
export interface OptimizerState {
  tensors: Map<string, Tensor>;
  steps: Record<string, number>;
}

abstract class Optimizer {
  /** The learning rate now (a schedule sets it before each step). */
  lr: number;
  protected readonly steps = new Map<string, number>();

  constructor(
    readonly groups: ParamGroup[],
    readonly baseLr: number,
    readonly weightDecay: number,
  ) {
    this.lr = baseLr;
    const names = groups.flatMap((g) => g.params.map(([n]) => n));
    if (new Set(names).size !== names.length) throw new Error("optimizer: a parameter name appears twice");
  }

  /** Updates every parameter that has a gradient, in place. */
  step(): void {
    for (const group of this.groups) {
      const decay = group.weightDecay ?? this.weightDecay;
      for (const [name, p] of group.params) {
        if (!p.grad) continue;
        const step = (this.steps.get(name) ?? 0) + 1;
        this.steps.set(name, step);
        this.update(name, p, p.grad, decay, step);
      }
    }
  }

  protected abstract update(name: string, p: Tensor, grad: Tensor, weightDecay: number, step: number): void;

  /** Buffers by "<param>.<buffer>". */
  protected abstract buffers(): Map<string, FloatArray>;

  zeroGrad(): void {
    for (const g of this.groups) for (const [, p] of g.params) p.zeroGrad();
  }

  stateDict(): OptimizerState {
    const tensors = new Map([...this.buffers()].map(([k, b]) => [k, new T.Tensor(b.slice(), [b.length])]));
    return { tensors, steps: Object.fromEntries(this.steps) };
  }

  loadStateDict(state: OptimizerState): void {
    const own = this.buffers();
    for (const [k, t] of state.tensors) {
      const buf = own.get(k);
      if (!buf || buf.length !== t.size)
        throw new Error(`optimizer state: "${k}" does not match this optimizer's parameters`);
      buf.set(t.data);
    }
    this.steps.clear();
    for (const [k, v] of Object.entries(state.steps)) this.steps.set(k, v);
  }

  protected named(): NamedParameter[] {
    return this.groups.flatMap((g) => g.params);
  }
}

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** torch.optim.AdamW with its defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8, decay 0.01): one fused kernel per parameter. */
export class AdamW extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  private readonly moments = new Map<string, { m: FloatArray; v: FloatArray }>();

  constructor(
    params: readonly Tensor[] | ParamGroup[],
    { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0.01 }: AdamWOptions = {},
  ) {
    super(asGroups(params), lr, weightDecay);
    this.betas = betas;
    this.eps = eps;
    for (const [name, p] of this.named()) {
      this.moments.set(name, {
        m: allocate(p.dtype, p.size) as FloatArray,
        v: allocate(p.dtype, p.size) as FloatArray,
      });
    }
  }

  protected update(name: string, p: Tensor, grad: Tensor, weightDecay: number, step: number): void {
    const { m, v } = this.moments.get(name)!;
    getBackend().adamw(p.floatData, grad.floatData, m, v, {
      lr: this.lr,
      beta1: this.betas[0],
      beta2: this.betas[1],
      eps: this.eps,
      weightDecay,
      step,
    });
  }

  protected buffers(): Map<string, FloatArray> {
    return new Map(
      [...this.moments].flatMap(([n, { m, v }]): [string, FloatArray][] => [
        [`${n}.exp_avg`, m],
        [`${n}.exp_avg_sq`, v],
      ]),
    );
  }
}

export interface SgdOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/** torch.optim.SGD: coupled weight decay, momentum buffer starting at the first gradient, optional Nesterov. */
export class SGD extends Optimizer {
  private readonly momentumBuffers = new Map<string, FloatArray>();
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;

  constructor(
    params: readonly Tensor[] | ParamGroup[],
    { lr = 1e-2, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 }: SgdOptions = {},
  ) {
    super(asGroups(params), lr, weightDecay);
    this.momentum = momentum;
    this.dampening = dampening;
    this.nesterov = nesterov;
    if (momentum > 0)
      for (const [name, p] of this.named())
        this.momentumBuffers.set(name, allocate(p.dtype, p.size) as FloatArray);
  }

  protected update(name: string, p: Tensor, grad: Tensor, weightDecay: number, step: number): void {
    const w = p.floatData;
    const g = grad.floatData;
    const buf = this.momentumBuffers.get(name);
    for (let i = 0; i < w.length; i++) {
      let d = g[i] + weightDecay * w[i];
      if (buf) {
        buf[i] = step === 1 ? d : this.momentum * buf[i] + (1 - this.dampening) * d;
        d = this.nesterov ? d + this.momentum * buf[i] : buf[i];
      }
      w[i] -= this.lr * d;
    }
  }

  protected buffers(): Map<string, FloatArray> {
    return new Map([...this.momentumBuffers].map(([n, b]) => [`${n}.momentum_buffer`, b]));
  }
}

export type { Optimizer };

function asGroups(params: readonly Tensor[] | ParamGroup[]): ParamGroup[] {
  if (params.length > 0 && "params" in (params[0] as object)) return params as ParamGroup[];
  return [{ params: (params as readonly Tensor[]).map((t, i): NamedParameter => [String(i), t]) }];
}
