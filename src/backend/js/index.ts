import type { Backend } from "../backend.js";
import { attention, attentionGrad } from "./attention.js";
import { dropout } from "./dropout.js";
import { binary, copyStrided, select, unary, unaryGrad } from "./elementwise.js";
import { gatedActivation, gatedActivationGrad } from "./gated.js";
import { gemm } from "./gemm.js";
import { gather, indexAdd, indexSelect, scatterAdd } from "./indexing.js";
import { crossEntropy, crossEntropyGrad } from "./loss.js";
import {
  layerNorm,
  layerNormGrad,
  rmsNorm,
  rmsNormGrad,
  rowNorm,
  rowNormGrad,
  softmax,
  softmaxGrad,
} from "./normalize.js";
import { adamw } from "./optim.js";
import { reduceMax, reduceSum } from "./reduce.js";
import { rope } from "./rope.js";

/** The portable TypeScript backend: the reference every other backend is tested against. */
export const jsBackend: Backend = {
  name: "js",
  gemm,
  binary,
  unary,
  unaryGrad,
  gatedActivation,
  gatedActivationGrad,
  dropout,
  select,
  copyStrided,
  reduceSum,
  reduceMax,
  indexSelect,
  indexAdd,
  gather,
  scatterAdd,
  softmax,
  softmaxGrad,
  layerNorm,
  layerNormGrad,
  rmsNorm,
  rmsNormGrad,
  crossEntropy,
  crossEntropyGrad,
  attention,
  attentionGrad,
  rope,
  rowNorm,
  rowNormGrad,
  adamw,
};
