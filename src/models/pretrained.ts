import { LayerStack, Module } from "../nn/index.js";

/**
 * A model built from a HuggingFace config: it keeps that config (written back on save) and says
 * how checkpoint names map to its own.
 */
export abstract class PretrainedModel extends Module {
  /** The config.json object it was built from. */
  hfConfig: Record<string, unknown> = {};

  /** The HF class name, written to config.json's "architectures". */
  abstract readonly architecture: string;

  /**
   * This model's name for a checkpoint tensor, or null to skip it (buffers HF stores, heads
   * of other tasks). The default keeps names as they are.
   */
  checkpointName(name: string): string | null {
    return name;
  }

  /** Tensors a checkpoint may lack (a task head trained from scratch); they keep their init. */
  mayBeFresh(name: string): boolean {
    void name;
    return false;
  }

  /** Turns gradient checkpointing of the transformer blocks on or off (docs/memory.md). */
  gradientCheckpointing(on = true): this {
    for (const [, m] of this.namedModules()) if (m instanceof LayerStack) m.checkpoint = on;
    return this;
  }

  /** Tensors left out of saved checkpoints (tied to another tensor). */
  tiedNames(): string[] {
    return [];
  }
}
