import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the nearest folder above this file holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("package.json not found above the test folder");
    dir = up;
  }
  return dir;
}

/** ../shared/fixtures/peft beside the repository (MORELORA_SHARED overrides ../shared). */
export function peftFixturesDir(): string {
  const shared = process.env.MORELORA_SHARED ?? resolve(repoRoot(), "..", "shared");
  return join(shared, "fixtures", "peft");
}
