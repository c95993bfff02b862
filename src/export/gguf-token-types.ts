/** llama.cpp's token types (llama_token_type), as `tokenizer.ggml.token_type` holds them. */
export const TOKEN_TYPE = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
