import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { HFTokenizer } from "../../src/models/index.js";
import { IGNORE, loadExamples } from "../../src/train/tasks.js";
import { repoRoot } from "../fixtures.js";

const builtin = join(repoRoot(), "assets", "morelora-default");
const TEMPLATE =
  "{% for m in messages %}<|pad|>{{ m.role }}: {{ m.content }}<|endoftext|>{% endfor %}" +
  "{% if add_generation_prompt %}<|pad|>assistant:{% endif %}";

/** The built-in tokenizer in a new folder, with a chat template (or none), and a data file. */
function setup(rows: unknown[], template: string | null = TEMPLATE): { tok: HFTokenizer; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "morelora-chat-"));
  copyFileSync(join(builtin, "tokenizer.json"), join(dir, "tokenizer.json"));
  const config = {
    eos_token: "<|endoftext|>",
    pad_token: "<|pad|>",
    ...(template ? { chat_template: template } : {}),
  };
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(config));
  const file = join(dir, "d.jsonl");
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n"));
  return { tok: HFTokenizer.load(dir), file };
}

const trainedText = (tok: HFTokenizer, targets: Int32Array): string =>
  tok.decode(
    [...targets].filter((t) => t !== IGNORE),
    { skipSpecialTokens: false },
  );

const chat = {
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Who hunts the whale?" },
    { role: "assistant", content: "Ahab." },
    { role: "user", content: "Why?" },
    { role: "assistant", content: "Revenge." },
  ],
};

describe("training data read by its keys", () => {
  const causal = { kind: "causal-lm" as const, maxLength: 512 };

  it("renders chat rows with the template; loss on the assistant turns only, or on all", async () => {
    const { tok, file } = setup([chat]);
    const [ex] = await loadExamples(file, tok, causal);
    const rendered = tok.applyChatTemplate(chat.messages, { addGenerationPrompt: false });
    assert.deepEqual([...ex.ids], tok.encode(rendered, { addSpecialTokens: false }));
    assert.equal(trainedText(tok, ex.targets!), " Ahab.<|endoftext|> Revenge.<|endoftext|>");
    const [all] = await loadExamples(file, tok, { ...causal, maskPrompt: false });
    assert.deepEqual([...all.targets!], [...all.ids]);
  });

  it("takes prompt/completion rows by their keys, text rows as text", async () => {
    const { tok, file } = setup([
      { prompt: "Call me", completion: " Ishmael." },
      { text: "Some years ago." },
    ]);
    const [pc, text] = await loadExamples(file, tok, causal);
    assert.equal(trainedText(tok, pc.targets!), " Ishmael.<|endoftext|>");
    assert.equal(trainedText(tok, text.targets!), "Some years ago.<|endoftext|>");
  });

  it("names the row of a malformed chat and a model without a chat template", async () => {
    const bad = setup([chat, { messages: [{ role: "user", content: 3 }] }]);
    await assert.rejects(
      loadExamples(bad.file, bad.tok, causal),
      /d\.jsonl:2: "messages"\[0\] must have string "role" and "content"/,
    );
    const none = setup([chat], null);
    await assert.rejects(
      loadExamples(none.file, none.tok, causal),
      /d\.jsonl:1: a chat row \("messages"\), but the model's tokenizer_config\.json has no chat_template/,
    );
  });

  it("--pack packs whole examples: nothing is cut before packing, and the prompt mask survives", async () => {
    const long = {
      prompt: "Call me Ishmael. ".repeat(20),
      completion: " Some years ago, never mind how long.",
    };
    const { tok, file } = setup([long, long, long]);
    const single = (await loadExamples(file, tok, causal))[0];
    assert.ok(single.ids.length > 64, "one example is longer than a block");
    const blocks = await loadExamples(file, tok, { ...causal, maxLength: 64, pack: true });
    assert.equal(blocks.length, Math.floor((3 * single.ids.length) / 64));
    const stream = [...single.targets!, ...single.targets!, ...single.targets!];
    assert.deepEqual(
      blocks.flatMap((b) => [...b.targets!]),
      stream.slice(0, blocks.length * 64),
    );
  });
});
