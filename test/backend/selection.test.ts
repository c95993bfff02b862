import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { availableBackends, getBackend, setBackend } from "../../src/backend/index.js";
import { repoRoot } from "../fixtures.js";

describe("backend selection", () => {
  it("setBackend picks by name and rejects unknown names with the list", () => {
    assert.equal(setBackend("js").name, "js");
    assert.equal(getBackend().name, "js");
    assert.throws(() => setBackend("gpu"), /backend "gpu" is not available \(available: js/);
    assert.ok(availableBackends().includes("js"));
  });

  it("MORELORA_BACKEND chooses the backend of a process, named with the BLAS on the demo's first line; an unknown one is a clear error", () => {
    const out = mkdtempSync(join(tmpdir(), "morelora-selection-"));
    const cli = join(repoRoot(), "build", "src", "cli", "main.js");
    const run = (backend: string): string =>
      execFileSync(
        process.execPath,
        [cli, "demo", "--steps", "1", "--train-examples", "4", "--test-examples", "4", "--out", out],
        {
          encoding: "utf8",
          stdio: "pipe",
          env: { ...process.env, MORELORA_BACKEND: backend },
        },
      );
    try {
      assert.match(run("js").split("\n")[0], /backend js, no BLAS/);
      if (availableBackends().includes("native"))
        assert.match(run("native").split("\n")[0], /backend native, BLAS: /);
      assert.throws(
        () => run("nope"),
        (e: { stderr: string }) => /MORELORA_BACKEND=nope: backend "nope" is not available/.test(e.stderr),
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
