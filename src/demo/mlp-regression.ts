import { Linear, Module } from "../nn/index.js";
import * as T from "../tensor/index.js";
import { Generator, type Tensor } from "../tensor/index.js";

/**
 * The foundation's end-to-end check and the interim built-in demo: a 2-layer MLP fitted to a
 * synthetic regression y = tanh(2·x·u) + 0.5·(x·v)² with Adam written on the tensor ops.
 */
export interface MlpRegressionOptions {
  steps?: number;
  hidden?: number;
  inputs?: number;
  samples?: number;
  lr?: number;
  seed?: number;
  onStep?: (step: number, loss: number) => void;
}

class Mlp extends Module {
  constructor(inputs: number, hidden: number, rng: Generator) {
    super();
    this.registerModule("fc1", new Linear(inputs, hidden, { rng }));
    this.registerModule("fc2", new Linear(hidden, 1, { rng }));
  }

  forward(x: Tensor): Tensor {
    const h = T.gelu((this.child("fc1") as Linear).forward(x));
    return (this.child("fc2") as Linear).forward(h);
  }
}

/** Synthetic data: inputs normal, targets a smooth nonlinear function of two projections. */
function makeData(samples: number, inputs: number, rng: Generator): { x: Tensor; y: Tensor } {
  const x = T.randn([samples, inputs], rng);
  const u = T.mulScalar(T.randn([inputs, 1], rng), 1 / Math.sqrt(inputs));
  const v = T.mulScalar(T.randn([inputs, 1], rng), 1 / Math.sqrt(inputs));
  const y = T.add(T.tanh(T.mulScalar(T.matmul(x, u), 2)), T.mulScalar(T.powScalar(T.matmul(x, v), 2), 0.5));
  return { x, y };
}

/** Adam (no weight decay) applied in place to every parameter that has a gradient. */
class Adam {
  private readonly m = new Map<Tensor, Tensor>();
  private readonly v = new Map<Tensor, Tensor>();
  private t = 0;

  constructor(
    private readonly params: Tensor[],
    private readonly lr: number,
  ) {}

  step(): void {
    this.t++;
    const bc1 = 1 - 0.9 ** this.t;
    const bc2 = 1 - 0.999 ** this.t;
    T.noGrad(() => {
      for (const p of this.params) {
        if (!p.grad) continue;
        const m = T.add(T.mulScalar(this.m.get(p) ?? T.zerosLike(p), 0.9), T.mulScalar(p.grad, 0.1));
        const v = T.add(
          T.mulScalar(this.v.get(p) ?? T.zerosLike(p), 0.999),
          T.mulScalar(T.mul(p.grad, p.grad), 0.001),
        );
        this.m.set(p, m);
        this.v.set(p, v);
        const update = T.div(
          T.mulScalar(m, this.lr / bc1),
          T.addScalar(T.sqrt(T.mulScalar(v, 1 / bc2)), 1e-8),
        );
        p.data.set(T.sub(p, update).data);
      }
    });
  }
}

/** Trains the MLP full-batch; returns the loss of every step. */
export function trainMlpRegression(options: MlpRegressionOptions = {}): number[] {
  const { steps = 300, hidden = 64, inputs = 8, samples = 256, lr = 1e-2, seed = 0, onStep } = options;
  const rng = new Generator(seed);
  const { x, y } = makeData(samples, inputs, rng);
  const model = new Mlp(inputs, hidden, rng);
  const opt = new Adam(model.parameters(), lr);
  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    model.zeroGrad();
    const diff = T.sub(model.forward(x), y);
    const loss = T.mean(T.mul(diff, diff));
    loss.backward();
    opt.step();
    losses.push(loss.item());
    onStep?.(step, loss.item());
  }
  return losses;
}
