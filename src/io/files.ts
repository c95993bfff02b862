import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "./atomic.js";

/** Folder helpers for the layers that must not import node: modules themselves. */
export const joinPath = (...parts: string[]): string => join(...parts);
export const resolvePath = (...parts: string[]): string => resolve(...parts);
export const fileExists = (path: string): boolean => existsSync(path);
export const isDirectory = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();
export const listFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
export const makeDir = (dir: string): void => void mkdirSync(dir, { recursive: true });

/** Parses a JSON file; the error names the file and what is wrong. */
export function readJsonFile(path: string): unknown {
  if (!existsSync(path)) throw new Error(`${path}: file not found`);
  const text = readFileSync(path, "utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

/** Writes JSON with two-space indentation, atomically. */
export function writeJsonFile(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Copies a file's bytes atomically. */
export function copyFileAtomic(from: string, to: string): void {
  writeFileAtomic(to, readFileSync(from));
}

export function writeTextFile(path: string, text: string): void {
  writeFileAtomic(path, text);
}
