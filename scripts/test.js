// Runs the test suite once per backend: TypeScript always, native where the addon was built
// (required when MORELORA_REQUIRE_NATIVE=1, as CI sets it).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const addon = "native/build/Release/morelora_native.node";
const runs = [{ backend: "js", args: [] }];
if (existsSync(addon)) runs.push({ backend: "native", args: ["--import", "./build/src/backend/native.js"] });
else if (process.env.MORELORA_REQUIRE_NATIVE === "1") {
  console.error(`morelora tests: ${addon} is missing and MORELORA_REQUIRE_NATIVE=1`);
  process.exit(1);
} else console.log(`morelora tests: ${addon} not built, testing the TypeScript backend only`);

let failed = false;
for (const { backend, args } of runs) {
  console.log(`\n== tests on the ${backend} backend`);
  const r = spawnSync(process.execPath, [...args, "--test", "build/test/"], {
    stdio: "inherit",
    env: { ...process.env, MORELORA_BACKEND: backend },
  });
  failed ||= r.status !== 0;
}
process.exit(failed ? 1 : 0);
