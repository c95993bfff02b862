import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Writes a file so that readers see either the old content or the new, never a torn one:
 * `fill` writes the bytes to a temporary file in the same folder, which is flushed and then
 * renamed over the target. Large files stream through `write` without being held whole.
 */
export function writeFileAtomicWith(path: string, fill: (write: (bytes: Uint8Array) => void) => void): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    const out = openSync(tmp, "w");
    fd = out;
    fill((bytes) => {
      let done = 0;
      while (done < bytes.byteLength) done += writeSync(out, bytes, done, bytes.byteLength - done);
    });
    fsyncSync(out);
    closeSync(out);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** writeFileAtomicWith for content already in memory. */
export function writeFileAtomic(
  path: string,
  chunks: Uint8Array | string | readonly (Uint8Array | string)[],
): void {
  const list = Array.isArray(chunks) ? chunks : [chunks];
  writeFileAtomicWith(path, (write) => {
    for (const c of list) write(typeof c === "string" ? Buffer.from(c, "utf8") : c);
  });
}
