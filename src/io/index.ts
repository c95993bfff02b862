export { writeFileAtomic } from "./atomic.js";
export {
  encodeSafetensors,
  loadSafetensors,
  MAX_HEADER_BYTES,
  parseHeader,
  type SafetensorsDType,
  SafetensorsError,
  SafetensorsFile,
  saveSafetensors,
  type TensorInfo,
  type TensorToWrite,
} from "./safetensors.js";
