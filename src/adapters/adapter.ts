import { noGrad, type Tensor } from "../tensor/index.js";
import { type Delta, denseDelta, subtractDelta } from "./delta.js";
import type { AdapterMethod, MethodContext, MethodInstance, Merged } from "./method.js";
import * as T from "../tensor/index.js";
import type { SharedTensors } from "./context.js";

/**
 * One adapter on one module: the method, its tensors and, for MoreLoRA's "better" init, a frozen
 * twin built from copies of the initial tensors whose update is subtracted, so that the model
 * starts exactly at W0 (W0 − ΔW(θ0) + ΔW(θ), docs/methods.md §1.4) without touching the base weights.
 */
export class ModuleAdapter {
  readonly instance: MethodInstance;
  /** The initial tensors of a "better" init (saved with the adapter), else null. */
  readonly initTensors: Map<string, Tensor> | null;
  private readonly twin: MethodInstance | null;

  constructor(
    readonly method: AdapterMethod,
    readonly ctx: MethodContext,
    readonly tensors: Map<string, Tensor>,
    initShared: SharedTensors | null,
  ) {
    this.instance = method.instance(ctx, tensors);
    if (initShared) {
      this.initTensors = new Map([...tensors].map(([k, t]) => [k, t.clone()]));
      const twinCtx: MethodContext = {
        ...ctx,
        shared: (name) => {
          const key = `${ctx.moduleType}.${name}`;
          let t = initShared.get(key);
          if (!t) {
            t = ctx
              .shared(name, () => {
                throw new Error(`shared tensor ${key} is missing`);
              })
              .clone();
            initShared.set(key, t);
          }
          return t;
        },
      };
      this.twin = method.instance(twinCtx, this.initTensors);
    } else {
      this.initTensors = null;
      this.twin = null;
    }
  }

  /** The update in effect: ΔW(θ), minus ΔW(θ0) under the "better" init. */
  delta(): Delta {
    const live = this.instance.delta();
    if (!this.twin) return live;
    const twin = this.twin;
    return subtractDelta(
      live,
      noGrad(() => twin.delta()),
    );
  }

  /** Folds the update into W0 [out, in] and says how to take it out again exactly. */
  merge(w0: Tensor): Merged {
    return noGrad(() => {
      const delta = this.delta();
      if (this.instance.merge) return this.instance.merge(w0, delta);
      const dw = denseDelta(delta);
      return { weight: T.add(w0, dw), unmerge: (merged: Tensor) => T.sub(merged, dw) };
    });
  }

  setRank(rank: number, frozen: boolean): void {
    if (!this.instance.setRank) return;
    this.instance.setRank(rank, frozen);
    this.twin?.setRank?.(rank, false);
  }

  /** The number of trainable values of this module's own tensors. */
  get parameterCount(): number {
    return [...this.tensors.values()].reduce((n, t) => n + t.size, 0);
  }
}
