import * as T from "../tensor/index.js";
import type { Tensor } from "../tensor/index.js";
import { type Module, ModuleList } from "./module.js";

/**
 * The repeated blocks of a transformer (HF's `layers` / `h` / `encoder.layer`), run in order.
 * With `checkpoint` on, each block keeps only its input while training and is recomputed in the
 * backward (gradient checkpointing, docs/memory.md).
 */
export class LayerStack<M extends Module = Module> extends ModuleList<M> {
  checkpoint = false;

  /** x through every block; `step` runs one block (its extra inputs come from the caller). */
  run(x: Tensor, step: (layer: M, x: Tensor, index: number) => Tensor): Tensor {
    for (let i = 0; i < this.length; i++) {
      const layer = this.at(i);
      x = this.checkpoint ? T.checkpoint((h) => step(layer, h, i), x, layer.generators()) : step(layer, x, i);
    }
    return x;
  }
}
