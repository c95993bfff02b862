import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { recoverDir, writeDirAtomic, writeFileAtomic } from "../../src/io/index.js";

const tmp = (): string => mkdtempSync(join(tmpdir(), "morelora-atomic-"));
const folderWith = (dir: string, text: string): void => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "f.txt"), text);
};

describe("atomic writes", () => {
  it("a failed file write names the file and leaves the old content and no stray files", () => {
    const dir = tmp();
    const path = join(dir, "state.json");
    writeFileAtomic(path, "old");
    // The second chunk is not writable: the write fails halfway, as on a full disk.
    const broken = { byteLength: 4 } as unknown as Uint8Array;
    assert.throws(() => writeFileAtomic(path, ["new", broken]), /state\.json: could not write/);
    assert.equal(readFileSync(path, "utf8"), "old");
    assert.deepEqual(readdirSync(dir), ["state.json"]);
    assert.throws(
      () => writeFileAtomic(join(dir, "gone", "x.json"), "{}"),
      /gone[/\\]x\.json: could not write \(its folder .*gone no longer exists\)/,
    );
  });

  it("a folder swap interrupted between its renames is finished by recoverDir", () => {
    const root = tmp();
    const dir = join(root, "checkpoint");
    writeDirAtomic(dir, (d) => writeFileSync(join(d, "f.txt"), "one"));
    writeDirAtomic(dir, (d) => writeFileSync(join(d, "f.txt"), "two"));
    assert.deepEqual(readdirSync(root), ["checkpoint"]);
    assert.equal(readFileSync(join(dir, "f.txt"), "utf8"), "two");
    // The kill fell after checkpoint -> checkpoint.old and before checkpoint.tmp -> checkpoint.
    folderWith(`${dir}.old`, "two");
    folderWith(`${dir}.tmp`, "three");
    assert.ok(recoverDir(dir));
    assert.equal(readFileSync(join(dir, "f.txt"), "utf8"), "two", "an existing folder is left as it is");
    const lost = join(root, "lost");
    folderWith(`${lost}.old`, "two");
    folderWith(`${lost}.tmp`, "three");
    assert.ok(recoverDir(lost));
    assert.equal(readFileSync(join(lost, "f.txt"), "utf8"), "three");
    assert.ok(!existsSync(`${lost}.old`) && !existsSync(`${lost}.tmp`));
    // A first write killed halfway leaves only a partial .tmp: there is no checkpoint.
    const first = join(root, "first");
    folderWith(`${first}.tmp`, "partial");
    assert.equal(recoverDir(first), false);
  });

  it("a failing writer leaves the old folder untouched", () => {
    const dir = join(tmp(), "best");
    writeDirAtomic(dir, (d) => writeFileSync(join(d, "f.txt"), "kept"));
    assert.throws(
      () =>
        writeDirAtomic(dir, (d) => {
          writeFileSync(join(d, "f.txt"), "half");
          throw new Error("disk full");
        }),
      /disk full/,
    );
    assert.equal(readFileSync(join(dir, "f.txt"), "utf8"), "kept");
    assert.ok(!existsSync(`${dir}.tmp`));
  });
});
