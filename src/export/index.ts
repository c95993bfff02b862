export { EXPORT_DTYPES, type ExportDType, exportGgufModel, type ExportModelResult } from "./gguf-model.js";
export { exportGgufLora, type ExportLoraResult } from "./gguf-lora.js";
export { type ConvertResult, convertToLora } from "./to-lora.js";
