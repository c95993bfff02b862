import * as T from "../tensor/index.js";
import { Generator, type GeneratorState, type Tensor } from "../tensor/index.js";
import { Module } from "./module.js";

/**
 * torch.nn.Dropout: in training, zeroes each element with probability p and scales the rest by
 * 1/(1 − p); in eval mode, the identity. A model's Dropout modules sit where transformers has
 * them, under the same names; `seedDropout` gives each its own stream.
 */
export class Dropout extends Module {
  constructor(
    readonly p: number,
    readonly rng: Generator = new Generator(0),
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
  }

  protected override ownGenerators(): Generator[] {
    return [this.rng];
  }

  forward(x: Tensor): Tensor {
    return T.dropout(x, this.p, this.rng, this.training);
  }

  /**
   * The dropout the fused attention applies to its probabilities (transformers drops
   * softmax(scores) before multiplying by v): a fresh mask seed per call in training, else none.
   */
  attentionDropout(): { p: number; seed: number } | undefined {
    return this.training && this.p > 0 ? { p: this.p, seed: this.rng.nextUint32() } : undefined;
  }
}

/** The Dropout modules below a model, by dotted path. */
export function dropoutModules(model: Module): [string, Dropout][] {
  return model.namedModules().filter((e): e is [string, Dropout] => e[1] instanceof Dropout);
}

/** Seeds every Dropout below a model from one seed, each its own stream (in module order). */
export function seedDropout(model: Module, seed: number): void {
  const seeds = new Generator(seed);
  for (const [, m] of dropoutModules(model)) m.rng.seed(seeds.nextUint32());
}

/** The generator states of a model's Dropout modules by path (saved in training checkpoints). */
export function dropoutStates(model: Module): Record<string, GeneratorState> {
  return Object.fromEntries(dropoutModules(model).map(([path, m]) => [path, m.rng.getState()]));
}

/** Sets the generator states dropoutStates saved; paths the model lacks are ignored. */
export function setDropoutStates(model: Module, states: Record<string, GeneratorState>): void {
  for (const [path, m] of dropoutModules(model)) if (states[path]) m.rng.setState(states[path]);
}
