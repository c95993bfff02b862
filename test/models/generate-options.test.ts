import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { penalizeRepetition } from "../../src/models/generate.js";
import {
  type ChatMessage,
  generate as generateIds,
  type Generative,
  HFTokenizer,
  loadModel,
} from "../../src/models/index.js";
import { repoRoot } from "../fixtures.js";

const cli = join(repoRoot(), "build", "src", "cli", "main.js");
const builtin = join(repoRoot(), "assets", "morelora-default");
const generate = (...args: string[]) =>
  spawnSync(
    "node",
    [cli, "generate", "--model", builtin, "--prompt", "The whale", "--max-new-tokens", "20", ...args],
    {
      encoding: "utf8",
    },
  );

describe("generate: repetition penalty, stop strings, system message, speed", () => {
  it("penalizes seen tokens as transformers does: positive logits divided, negative multiplied", () => {
    assert.deepEqual([...penalizeRepetition([2, -1, 0.5, 3], [0, 1, 1], 2)], [1, -2, 0.5, 3]);
  });

  it("stops before a stop string, changes the text with a penalty, and reports tokens/s", () => {
    const plain = generate();
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stderr, /^20 tokens in \d+\.\d\d s \(\d+\.\d tokens\/s\)/);
    const text = plain.stdout.replace(/\n$/, "");
    const stop = text.slice(6, 10);
    const cut = generate("--stop", "zzz", "--stop", stop);
    assert.equal(cut.stdout, `${text.slice(0, text.indexOf(stop))}\n`);
    const penalized = generate("--repetition-penalty", "1.5");
    assert.notEqual(penalized.stdout, plain.stdout);
    const bad = generate("--system", "Be brief.");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--system goes with --chat/);
  });

  it("--chat without --prompt chats turn by turn: each line a user turn, the conversation the prompt", () => {
    const r = spawnSync(
      "node",
      [cli, "generate", "--model", builtin, "--chat", "--system", "Be brief.", "--max-new-tokens", "6"],
      { encoding: "utf8", input: "Who hunts the whale?\n\nAnd then?\n" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.match(/tokens\/s/g)?.length, 2, "one reply per non-empty line");
    // The same conversation generated in-process: the reply to turn 2 sees turn 1 and its reply.
    const tokenizer = HFTokenizer.load(builtin);
    const model = loadModel(builtin) as unknown as Generative;
    const messages: ChatMessage[] = [{ role: "system", content: "Be brief." }];
    let want = "";
    for (const line of ["Who hunts the whale?", "And then?"]) {
      messages.push({ role: "user", content: line });
      const ids = tokenizer.encode(tokenizer.applyChatTemplate(messages), { addSpecialTokens: false });
      const eos = tokenizer.eosId;
      const reply = tokenizer.decode(
        generateIds(model, ids, { maxNewTokens: 6, stopTokens: eos === null ? [] : [eos] }),
      );
      messages.push({ role: "assistant", content: reply });
      want += `${reply}\n`;
    }
    assert.equal(r.stdout, want);
    const none = spawnSync("node", [cli, "generate", "--model", builtin], { encoding: "utf8" });
    assert.equal(none.status, 1);
    assert.match(none.stderr, /--prompt is required \(or --chat without it/);
  });
});
