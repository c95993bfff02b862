// Runs the test suite. Where the native addon was built (required when MORELORA_REQUIRE_NATIVE=1,
// as CI sets it), every test runs on the native backend, and the TypeScript backend runs the
// kernel-level tests: op forwards and float64 gradient checks, the nn modules, the AdamW kernel
// (the native-vs-TypeScript parity tests run both backends in one process). The expensive cases
// (method gradient checks, training runs, end-to-end CLI runs) thus run once: they run the same
// model code on either backend, whose kernels the kernel-level tests cover. Without the addon,
// everything runs on the TypeScript backend.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const addon = "native/build/Release/morelora_native.node";
const KERNEL_LEVEL = ["build/test/tensor/", "build/test/nn/", "build/test/backend/adamw.test.js"];
const runs = [];
if (existsSync(addon)) {
  runs.push({ backend: "js", args: [], tests: KERNEL_LEVEL });
  runs.push({
    backend: "native",
    args: ["--import", "./build/src/backend/native.js"],
    tests: ["build/test/"],
  });
} else if (process.env.MORELORA_REQUIRE_NATIVE === "1") {
  console.error(`morelora tests: ${addon} is missing and MORELORA_REQUIRE_NATIVE=1`);
  process.exit(1);
} else {
  console.log(`morelora tests: ${addon} not built, testing the TypeScript backend only`);
  runs.push({ backend: "js", args: [], tests: ["build/test/"] });
}

let failed = false;
for (const { backend, args, tests } of runs) {
  console.log(`\n== tests on the ${backend} backend: ${tests.join(" ")}`);
  const r = spawnSync(process.execPath, [...args, "--test", ...tests], {
    stdio: "inherit",
    env: { ...process.env, MORELORA_BACKEND: backend },
  });
  failed ||= r.status !== 0;
}
process.exit(failed ? 1 : 0);
