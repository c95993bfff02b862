import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { gguf as readGguf } from "@huggingface/gguf";
import { getPeftModel } from "../../src/adapters/index.js";
import { CHAT_TEMPLATE } from "../../src/demo/pretrain.js";
import { tokenizerMetadata } from "../../src/export/gguf-tokenizer.js";
import { exportGgufLora, exportGgufModel } from "../../src/export/index.js";
import { loadModel } from "../../src/models/index.js";
import { repoRoot } from "../fixtures.js";
import { assertClose } from "../helpers.js";
import {
  GPT2_CONFIG,
  gpt2Shapes,
  LLAMA_CONFIG,
  LLAMA3_ROPE_SCALING,
  llamaShapes,
  randomTensors,
  writeFolder,
} from "../support/hf-folders.js";
import { spmVocab, writeSpmTokenizer } from "../support/spm-tokenizer.js";

const root = repoRoot();
const builtin = join(root, "assets", "morelora-default");
const cli = join(root, "build", "src", "cli", "main.js");
const tmp = (): string => mkdtempSync(join(tmpdir(), "morelora-export-"));

describe("morelora export (file contents and errors)", () => {
  it("writes the built-in model at q8_0 with f32 norms, no tied head, and its tokenizer", async () => {
    const out = join(tmp(), "m.gguf");
    const r = spawnSync("node", [cli, "export", "--model", builtin, "--out", out, "--dtype", "q8_0"], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    const parsed = await readGguf(out, { allowLocalFile: true });
    const meta = parsed.metadata as unknown as Record<string, unknown>;
    const types = new Map(parsed.tensorInfos.map((t) => [t.name, t.dtype]));
    assert.equal(types.get("blk.0.attn_norm.weight"), 0, "norms stay F32");
    assert.equal(types.get("output_norm.weight"), 0);
    assert.equal(types.get("blk.3.ffn_down.weight"), 8, "matrices are Q8_0");
    assert.equal(types.get("token_embd.weight"), 8);
    assert.ok(!types.has("output.weight"), "the tied head is left to llama.cpp");
    assert.equal(parsed.tensorInfos.length, 2 + 4 * 9);
    assert.equal(meta["general.file_type"], 7);
    assert.equal(meta["llama.attention.head_count_kv"], 2);
    assert.equal(meta["tokenizer.ggml.pre"], "gpt-2");
    assert.equal((meta["tokenizer.ggml.tokens"] as string[]).length, 4096);
    assert.equal((meta["tokenizer.ggml.tokens"] as string[])[0], "<|endoftext|>");
    assert.deepEqual((meta["tokenizer.ggml.token_type"] as number[]).slice(0, 3), [3, 3, 1]);
    assert.equal((meta["tokenizer.ggml.merges"] as string[])[0], "Ġ t");
    assert.equal(meta["tokenizer.ggml.add_bos_token"], false, "the built-in model has no BOS");
    assert.equal(meta["tokenizer.ggml.eos_token_id"], 0);
    assert.equal(meta["tokenizer.ggml.padding_token_id"], 1);
    assert.equal(meta["tokenizer.chat_template"], CHAT_TEMPLATE);
  });

  it("writes GPT-2's Conv1D weights transposed to [out, in] and drops its mask buffers", async () => {
    const c = { ...GPT2_CONFIG, vocab_size: 4096 };
    const dir = writeFolder(tmp(), c, randomTensors(gpt2Shapes(c), 1));
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(builtin, f), join(dir, f));
    const out = join(dir, "m.gguf");
    exportGgufModel(dir, out, { dtype: "f16" });
    const shapes = new Map(
      (await readGguf(out, { allowLocalFile: true })).tensorInfos.map((t) => [t.name, t.shape.map(Number)]),
    );
    // GGUF lists dimensions innermost first: [in, out] there is PyTorch's [out, in].
    assert.deepEqual(shapes.get("blk.0.attn_qkv.weight"), [16, 48]);
    assert.deepEqual(shapes.get("blk.1.ffn_up.weight"), [16, 64]);
    assert.deepEqual(shapes.get("position_embd.weight"), [16, 32]);
    assert.ok(![...shapes.keys()].some((n) => n.includes("attn.bias")));
  });

  it("writes Llama 3's RoPE scaling as rope_freqs (plain over scaled frequency), and a LoRA on such a base", async () => {
    const c = {
      ...LLAMA_CONFIG,
      vocab_size: 4096,
      hidden_size: 32,
      rope_scaling: LLAMA3_ROPE_SCALING,
    };
    const dir = writeFolder(tmp(), c, randomTensors(llamaShapes(c), 2));
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(builtin, f), join(dir, f));
    const out = join(dir, "m.gguf");
    exportGgufModel(dir, out);
    const parsed = await readGguf(out, { allowLocalFile: true });
    const info = parsed.tensorInfos.find((t) => t.name === "rope_freqs.weight");
    assert.deepEqual([info?.shape.map(Number), info?.dtype], [[4], 0]);
    // Head dim 8, theta 1e4: wavelengths 6.3 (< 64/4: kept), 63 (between: smoothed), 628 and 6283 (> 64: ÷8).
    const smooth = 64 / (2 * Math.PI * 10) / 3 - 1 / 3;
    const want = [1, 1 / ((1 - smooth) / 8 + smooth), 8, 8];
    const bytes = readFileSync(out);
    const at = Number(parsed.tensorDataOffset) + Number(info!.offset);
    const got = Array.from(
      new Float32Array(bytes.buffer.slice(bytes.byteOffset + at, bytes.byteOffset + at + 16)),
    );
    assertClose(got, want, { rtol: 1e-6, atol: 0 });

    const adapter = join(dir, "lora");
    const peft = getPeftModel(loadModel(dir), { method: "lora", r: 2, targetModules: ["q_proj"] });
    peft.baseModelNameOrPath = dir;
    peft.save(adapter);
    exportGgufLora(adapter, join(dir, "lora.gguf"));
    const lora = await readGguf(join(dir, "lora.gguf"), { allowLocalFile: true });
    assert.ok(
      !lora.tensorInfos.some((t) => t.name === "rope_freqs.weight"),
      "a LoRA holds adapter tensors only",
    );
  });

  it("refuses what llama.cpp could not load the same way, naming the file and key", () => {
    const dir = tmp();
    const bert = writeFolder(dir, { architectures: ["BertModel"] }, new Map());
    assert.throws(
      () => exportGgufModel(bert, join(dir, "x.gguf")),
      /"architectures" BertModel cannot be exported.*GPT2LMHeadModel/,
    );
    const qwen3 = writeFolder(
      tmp(),
      {
        ...LLAMA_CONFIG,
        architectures: ["Qwen2ForCausalLM"],
        model_type: "qwen2",
        rope_scaling: LLAMA3_ROPE_SCALING,
      },
      new Map(),
    );
    assert.throws(
      () => exportGgufModel(qwen3, join(dir, "x.gguf")),
      /"rope_scaling" llama3: llama.cpp takes it for Llama/,
    );
    const erf = writeFolder(tmp(), { ...GPT2_CONFIG, activation_function: "gelu" }, new Map());
    assert.throws(() => exportGgufModel(erf, join(erf, "x.gguf")), /"activation_function" gelu/);
    const dora = join(dir, "dora");
    getPeftModel(loadModel(builtin), { method: "dora", r: 2, targetModules: ["q_proj"] }).save(dora);
    assert.throws(
      () => exportGgufLora(dora, join(dir, "x.gguf")),
      /plain LoRA only; this adapter is dora.*convert --to lora/,
    );
    const lora = join(dir, "lora");
    getPeftModel(loadModel(builtin), { method: "lora", r: 2, targetModules: ["q_proj"] }).save(lora);
    assert.throws(
      () => exportGgufLora(lora, join(dir, "x.gguf")),
      /"base_model_name_or_path" is not set; pass --base DIR/,
    );
    const r = spawnSync(
      "node",
      [cli, "export", "--model", builtin, "--out", join(dir, "x.gguf"), "--dtype", "q4_0"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--dtype expects one of f32, f16, bf16, q8_0, got "q4_0"/);
  });

  it('writes a SentencePiece-style tokenizer as llama.cpp\'s "llama" model: scores from the merges, byte tokens', async () => {
    const dir = tmp();
    const n = writeSpmTokenizer(dir);
    const c = { ...LLAMA_CONFIG, vocab_size: n };
    writeFolder(dir, c, randomTensors(llamaShapes(c), 3));
    const out = join(dir, "m.gguf");
    exportGgufModel(dir, out);
    const meta = (await readGguf(out, { allowLocalFile: true })).metadata as unknown as Record<
      string,
      unknown
    >;
    const tokens = meta["tokenizer.ggml.tokens"] as string[];
    const scores = meta["tokenizer.ggml.scores"] as number[];
    const types = meta["tokenizer.ggml.token_type"] as number[];
    assert.equal(meta["tokenizer.ggml.model"], "llama");
    assert.equal(meta["tokenizer.ggml.pre"], "default");
    assert.ok(!("tokenizer.ggml.merges" in meta), "SentencePiece vocabularies merge by score");
    assert.equal(tokens.length, n);
    assert.deepEqual(tokens.slice(0, 4), ["<unk>", "<s>", "</s>", "<0x00>"]);
    assert.deepEqual(types.slice(0, 3), [2, 3, 3], "<unk> UNKNOWN, <s> and </s> CONTROL");
    assert.ok(
      types.slice(3, 259).every((t) => t === 6),
      "<0x00>…<0xFF> BYTE",
    );
    assert.ok(types.slice(259).every((t) => t === 1));
    // A piece scores minus the rank of the first merge that makes it; tokens no merge makes, 0.
    const { merges } = spmVocab();
    const rankOf = (piece: string): number => merges.findIndex(([l, r]) => l + r === piece);
    for (const piece of ["\u2581the", "\u2581\u2581\u2581\u2581", "ing"])
      assert.equal(scores[tokens.indexOf(piece)], -rankOf(piece), piece);
    assert.ok(rankOf("\u2581the") > 0);
    for (const token of ["<unk>", "<s>", "<0x0A>", "e", "\u2581"])
      assert.equal(scores[tokens.indexOf(token)], 0, token);
    assert.equal(meta["tokenizer.ggml.add_space_prefix"], true, "Llama 2's normalizer prepends \u2581");
    assert.equal(meta["tokenizer.ggml.bos_token_id"], 1);
    assert.equal(meta["tokenizer.ggml.eos_token_id"], 2);
    assert.equal(meta["tokenizer.ggml.unknown_token_id"], 0);
    assert.equal(meta["tokenizer.ggml.add_bos_token"], true);
    assert.equal(meta["tokenizer.ggml.add_eos_token"], false);

    // A Metaspace pre-tokenizer instead of the normalizer: its prepend_scheme says whether \u2581 goes first.
    const metaspace = (scheme: string) => (json: Record<string, unknown>) => {
      json.normalizer = null;
      json.pre_tokenizer = { type: "Metaspace", replacement: "\u2581", prepend_scheme: scheme, split: false };
    };
    for (const [scheme, prefix] of [
      ["first", true],
      ["never", false],
    ] as const) {
      writeSpmTokenizer(dir, metaspace(scheme));
      assert.equal(
        tokenizerMetadata(dir, n, c).get("tokenizer.ggml.add_space_prefix")?.value,
        prefix,
        scheme,
      );
    }
  });

  it("refuses tokenizers llama.cpp's SentencePiece tokenizer would not follow, naming the file and key", () => {
    const dir = tmp();
    const n = writeSpmTokenizer(dir);
    const c = { ...LLAMA_CONFIG, vocab_size: n };
    writeFolder(dir, c, new Map());
    const refused = (edit: (json: Record<string, unknown>) => void, message: RegExp): void => {
      writeSpmTokenizer(dir, edit);
      assert.throws(() => exportGgufModel(dir, join(dir, "x.gguf")), message);
    };
    const model = (json: Record<string, unknown>) => json.model as Record<string, unknown>;
    refused(
      (json) => (json.model = { type: "Unigram", unk_id: 0, vocab: [["<unk>", 0]] }),
      /tokenizer\.json: "model" is Unigram; export writes BPE tokenizers only/,
    );
    refused(
      (json) => (json.normalizer = { type: "NFKC" }),
      /tokenizer\.json: "normalizer" \{"type":"NFKC"\} is not SentencePiece's/,
    );
    refused(
      (json) => (json.normalizer = null),
      /tokenizer\.json: "pre_tokenizer" null with no normalizer leaves spaces as they are/,
    );
    refused(
      (json) => delete (model(json).vocab as Record<string, number>)["<0x0A>"],
      /tokenizer\.json: "model\.byte_fallback" needs the 256 tokens <0x00>…<0xFF>; <0x0A> is missing/,
    );
    refused(
      (json) =>
        (model(json).merges = (model(json).merges as string[]).filter(
          (m) => m.replace(" ", "") !== "\u2581the",
        )),
      /tokenizer\.json: token "\u2581the" \(id \d+\) is in "model\.vocab" but no merge makes it/,
    );
  });
});
