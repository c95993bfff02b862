/** morelora's public API (for Node: it loads the native backend when it was built). */
import "./backend/native.js";

export {
  type AdamWArgs,
  availableBackends,
  type Backend,
  type BinaryOp,
  type FloatArray,
  type GemmArgs,
  getBackend,
  jsBackend,
  registerBackend,
  setBackend,
  type UnaryOp,
} from "./backend/index.js";
export { type NativeInfo, nativeInfo, setNativeThreads } from "./backend/native.js";
export * from "./io/index.js";
export * from "./nn/index.js";
export * from "./tensor/index.js";
export * from "./adapters/index.js";
export * from "./models/index.js";
export * from "./train/index.js";
