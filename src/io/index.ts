export { recoverDir, writeDirAtomic, writeError, writeFileAtomic } from "./atomic.js";
export { crashPoint } from "./crash-point.js";
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
export {
  copyFileAtomic,
  fileExists,
  isDirectory,
  joinPath,
  listFiles,
  makeDir,
  readJsonFile,
  resolvePath,
  writeJsonFile,
  writeTextFile,
} from "./files.js";
export {
  checkpointTensorNames,
  weightFiles,
  INDEX_FILE,
  readWeightsFolder,
  SINGLE_FILE,
  type StoredTensor,
} from "./weights-folder.js";
export {
  inspectModelFolder,
  inspectSafetensors,
  type ModelFolderSummary,
  type SafetensorsSummary,
  type TensorEntry,
} from "./inspect.js";
