import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { crashPoint } from "./crash-point.js";

/** A failed write as one line naming the file (not a temporary name) and the system's reason. */
export function writeError(path: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === "ENOSPC"
      ? "no space left on the device"
      : err.code === "ENOENT"
        ? `its folder ${dirname(path)} no longer exists`
        : (err.message ?? String(e));
  return new Error(`${path}: could not write (${why}); files written before are unchanged`);
}

/** Flushes a folder's entries, since a rename survives a power loss only once its folder is flushed. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Windows can neither open nor flush a folder; its renames are flushed by the file system.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes a file so that readers see either the old content or the new, never a torn one:
 * `fill` writes the bytes to a temporary file in the same folder, which is flushed and then
 * renamed over the target, and the folder is flushed so the rename lasts; large files stream
 * through `write` without being held whole.
 * A failure (disk full, folder removed) leaves the old file as it was and names the target.
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
    syncDir(dirname(path));
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw writeError(path, e);
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

/**
 * Puts back a folder that a kill interrupted while writeDirAtomic swapped it: if `dir` is missing
 * and `dir.old` exists, the kill fell between the two renames, so `dir.tmp` is complete and newest.
 * Returns whether `dir` exists afterwards.
 */
export function recoverDir(dir: string): boolean {
  const tmp = `${dir}.tmp`;
  const old = `${dir}.old`;
  if (!existsSync(dir) && existsSync(old)) {
    renameSync(existsSync(tmp) ? tmp : old, dir);
    rmSync(old, { recursive: true, force: true });
  }
  return existsSync(dir);
}

/**
 * Replaces folder `dir` with one that `write` fills: it is written beside as `dir.tmp`, then
 * swapped in with two renames. A kill at any moment leaves either the old folder or the new one
 * (recoverDir finishes an interrupted swap); a failed write leaves the old folder untouched.
 */
export function writeDirAtomic(dir: string, write: (tmp: string) => void): void {
  const tmp = `${dir}.tmp`;
  const old = `${dir}.old`;
  recoverDir(dir);
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
  } catch (e) {
    throw writeError(tmp, e);
  }
  try {
    write(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  syncDir(tmp);
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  crashPoint("dir-swap");
  renameSync(tmp, dir);
  syncDir(dirname(dir));
  rmSync(old, { recursive: true, force: true });
}
