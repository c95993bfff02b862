import * as T from "../tensor/index.js";
import { type DType, Generator, type Tensor } from "../tensor/index.js";
import { kaimingUniform_, normal_, ones_, uniform_, zeros_ } from "./init.js";
import { Module } from "./module.js";

export interface LayerOptions {
  dtype?: DType;
  /** Source of the initial weights; a fixed default seed when omitted. */
  rng?: Generator;
}

function empty(shape: number[], dtype: DType | undefined): Tensor {
  return T.zeros(shape, { dtype: dtype ?? "float32" });
}

/** y = x Wᵀ + b with W [out, in], initialised as torch.nn.Linear. */
export class Linear extends Module {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true, dtype, rng = new Generator(0) }: LayerOptions & { bias?: boolean } = {},
  ) {
    super();
    this.registerParameter("weight", kaimingUniform_(empty([outFeatures, inFeatures], dtype), rng));
    const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    this.registerParameter("bias", bias ? uniform_(empty([outFeatures], dtype), rng, -bound, bound) : null);
  }

  get weight(): Tensor {
    return this.param("weight")!;
  }

  get bias(): Tensor | null {
    return this.param("bias");
  }

  forward(x: Tensor): Tensor {
    return T.linear(x, this.weight, { bias: this.bias });
  }
}

/** GPT-2's Conv1D: y = x W + b with W stored [in, out]; initialised normal(0, 0.02) as in HF. */
export class Conv1D extends Module {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { dtype, rng = new Generator(0) }: LayerOptions = {},
  ) {
    super();
    this.registerParameter("weight", normal_(empty([inFeatures, outFeatures], dtype), rng, 0, 0.02));
    this.registerParameter("bias", empty([outFeatures], dtype));
  }

  get weight(): Tensor {
    return this.param("weight")!;
  }

  get bias(): Tensor {
    return this.param("bias")!;
  }

  forward(x: Tensor): Tensor {
    return T.linear(x, this.weight, { bias: this.bias, layout: "in-out" });
  }
}

/** A lookup table [num, dim]; rows are selected by int32 ids of any shape. */
export class Embedding extends Module {
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    { dtype, rng = new Generator(0), paddingIdx }: LayerOptions & { paddingIdx?: number } = {},
  ) {
    super();
    const w = normal_(empty([numEmbeddings, embeddingDim], dtype), rng);
    if (paddingIdx !== undefined) w.data.fill(0, paddingIdx * embeddingDim, (paddingIdx + 1) * embeddingDim);
    this.registerParameter("weight", w);
  }

  get weight(): Tensor {
    return this.param("weight")!;
  }

  forward(ids: Tensor): Tensor {
    if (ids.dtype !== "int32") throw new Error(`Embedding: ids must be int32, got ${ids.dtype}`);
    const rows = T.indexSelect(this.weight, 0, ids.data as Int32Array);
    return T.reshape(rows, [...ids.shape, this.embeddingDim]);
  }
}

export class LayerNorm extends Module {
  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
    { dtype, affine = true, bias = true }: LayerOptions & { affine?: boolean; bias?: boolean } = {},
  ) {
    super();
    this.registerParameter("weight", affine ? ones_(empty([dim], dtype)) : null);
    this.registerParameter("bias", affine && bias ? zeros_(empty([dim], dtype)) : null);
  }

  forward(x: Tensor): Tensor {
    return T.layerNorm(x, this.param("weight"), this.param("bias"), this.eps);
  }
}

export class RMSNorm extends Module {
  constructor(
    readonly dim: number,
    readonly eps = 1e-6,
    { dtype }: LayerOptions = {},
  ) {
    super();
    this.registerParameter("weight", ones_(empty([dim], dtype)));
  }

  forward(x: Tensor): Tensor {
    return T.rmsNorm(x, this.param("weight"), this.eps);
  }
}
