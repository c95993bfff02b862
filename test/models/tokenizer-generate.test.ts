import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { generate, HFTokenizer, type LlamaForCausalLM, loadModel } from "../../src/models/index.js";
import { repoRoot } from "../fixtures.js";
import { tinyLlamaFolder } from "../support/hf-folders.js";

const WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "hello", "world"];
const cli = join(repoRoot(), "build", "src", "cli", "main.js");

function modelFolder(): string {
  return tinyLlamaFolder(WORDS, 7, 0.5);
}

describe("tokenizers", () => {
  it("encodes, decodes, pads on the configured side and knows its special tokens", () => {
    const tok = HFTokenizer.load(modelFolder());
    const ids = tok.encode("the cat sat");
    assert.deepEqual(ids, [3, 4, 5]);
    assert.equal(tok.decode(ids), "the cat sat");
    assert.deepEqual([tok.bosId, tok.eosId, tok.padId, tok.paddingSide], [1, 2, 2, "left"]);
    const { ids: batch, attentionMask } = tok.pad([[3, 4, 5], [6]]);
    assert.deepEqual(batch.toArray(), [3, 4, 5, 2, 2, 6]);
    assert.deepEqual(attentionMask.toArray(), [1, 1, 1, 0, 0, 1]);
    assert.deepEqual(tok.pad([[3, 4, 5], [6]], { side: "right", maxLength: 2 }).ids.toArray(), [3, 4, 6, 2]);
  });

  it("renders a chat template", () => {
    const dir = modelFolder();
    const configFile = join(dir, "tokenizer_config.json");
    const config = JSON.parse(readFileSync(configFile, "utf8"));
    config.chat_template =
      "{% for m in messages %}<s> {{ m.role }} {{ m.content }} </s> {% endfor %}{% if add_generation_prompt %}<s> assistant{% endif %}";
    writeFileSync(configFile, JSON.stringify(config));
    const tok = HFTokenizer.load(dir);
    assert.equal(
      tok.applyChatTemplate([{ role: "user", content: "hello" }]),
      "<s> user hello </s> <s> assistant",
    );
  });

  it("names the folder when tokenizer.json is missing", () => {
    assert.throws(() => HFTokenizer.load(tmpdir()), /no tokenizer\.json/);
  });
});

describe("morelora generate", () => {
  it("streams what the library generates", () => {
    const dir = modelFolder();
    const tok = HFTokenizer.load(dir);
    const model = loadModel(dir) as LlamaForCausalLM;
    const ids = generate(model, tok.encode("the cat"), { maxNewTokens: 6, stopTokens: [2] });
    const printed = execFileSync(
      "node",
      [cli, "generate", "--model", dir, "--prompt", "the cat", "--max-new-tokens", "6"],
      { encoding: "utf8" },
    );
    assert.equal(printed.trim(), tok.decode(ids).trim());
    const bad = spawnSync("node", [cli, "generate", "--model", dir, "--prompt", "x", "--top-p", "2"], {
      encoding: "utf8",
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--top-p expects a number in \(0, 1\], got "2"/);
  });
});
