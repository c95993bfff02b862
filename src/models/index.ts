export { type BertConfig, BertForSequenceClassification, BertModel, type EncoderInput } from "./bert.js";
export { type CausalLM, type DecoderInput, isCausalLM, KvCache } from "./causal-lm.js";
export { type GenerateOptions, type Generative, generate, greedyBatch } from "./generate.js";
export { Gpt2LMHeadModel } from "./gpt2.js";
export {
  buildModel,
  loadModel,
  registerArchitecture,
  saveModel,
  sequenceClassifierFields,
  supportedArchitectures,
} from "./hf.js";
export { type LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification } from "./llama.js";
export { PretrainedModel, type TaskInput } from "./pretrained.js";
export { type ChatMessage, HFTokenizer } from "./tokenizer.js";
export { ConfigReader } from "./hf-config.js";
export { gpt2ConfigFrom } from "./gpt2.js";
export { llamaConfigFrom } from "./llama.js";
