import { type Children, LayerStack, Module } from "../nn/index.js";
import type { Tensor } from "../tensor/index.js";

/** What every task forward takes besides the ids; architectures add their own (positions, a KV cache). */
export interface TaskInput {
  /** [B, T]: 1 for real tokens, 0 for padding. */
  attentionMask?: Tensor | null;
}

/**
 * A model built from a HuggingFace config: it keeps that config (written back on save) and says
 * how checkpoint names map to its own.
 */
export abstract class PretrainedModel<C extends Children = Children> extends Module<C> {
  /** The config.json object it was built from. */
  hfConfig: Record<string, unknown> = {};

  /** The HF class name, written to config.json's "architectures". */
  abstract readonly architecture: string;

  /** PEFT's task_type for this head, written to adapter_config.json. */
  abstract readonly peftTaskType: "CAUSAL_LM" | "SEQ_CLS" | "FEATURE_EXTRACTION";

  /**
   * The task's forward, as the HF class's: a causal LM's logits [B, T, vocab], a classifier's
   * [B, labels], a bare encoder's hidden states [B, T, hidden].
   */
  abstract forward(ids: Tensor, input?: TaskInput): Tensor;

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
