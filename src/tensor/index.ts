export { type GradFn, isGradEnabled, noGrad } from "./autograd.js";
export { checkpoint } from "./grad-checkpoint.js";
export * from "./create.js";
export * from "./ops/attention.js";
export * from "./ops/elementwise.js";
export * from "./ops/gated-activation.js";
export * from "./ops/linear.js";
export * from "./ops/matmul.js";
export * from "./ops/nn.js";
export * from "./ops/reduce.js";
export * from "./ops/rope.js";
export * from "./ops/shape.js";
export { Generator, type GeneratorState } from "./random.js";
export { broadcastShapes } from "./shape-utils.js";
export { decodeHalf, encodeHalf } from "./half.js";
export {
  allocate,
  type DType,
  type HalfDType,
  type HalfStorage,
  formatShape,
  type Storage,
  shapeSize,
  Tensor,
} from "./tensor.js";
export { linearCrossEntropy, type LinearCrossEntropyOptions } from "./ops/linear-cross-entropy.js";
