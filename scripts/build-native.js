// Builds the native addon at install time. It is optional: when it cannot be built, installation
// still succeeds and morelora runs on its TypeScript backend.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// npm puts its bundled node-gyp in npm_config_node_gyp for install scripts; outside npm, look
// beside the node binary.
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(
      dirname(process.execPath),
      "..",
      "lib",
      "node_modules",
      "npm",
      "node_modules",
      "node-gyp",
      "bin",
      "node-gyp.js",
    ),
  ];
  return candidates.find((p) => p && existsSync(p));
}

// Node's own headers, when installed beside the binary: node-gyp would otherwise download them.
function nodeDirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = join(dirname(process.execPath), "..");
  return existsSync(join(prefix, "include", "node", "node_api.h")) ? [`--nodedir=${prefix}`] : [];
}

if (process.env.MORELORA_SKIP_NATIVE === "1") process.exit(0);
// Which BLAS binding.gyp will link (native/detect-blas.cjs); a forced one that is missing stops here.
const blas = spawnSync(process.execPath, [join(root, "native", "detect-blas.cjs"), "name"], {
  encoding: "utf8",
});
if (blas.status !== 0) {
  console.warn(`${blas.stderr.trim()}; using the TypeScript backend`);
  process.exit(process.env.MORELORA_REQUIRE_NATIVE === "1" ? 1 : 0);
}
const gyp = nodeGyp();
const args = [gyp, "rebuild", "--directory", join(root, "native"), ...nodeDirArgs()];
const result = gyp ? spawnSync(process.execPath, args, { stdio: "pipe", encoding: "utf8" }) : null;
if (!result || result.status !== 0) {
  const log = result ? `${result.stdout}\n${result.stderr}` : "node-gyp not found";
  const hint =
    "install a C++ toolchain and OpenBLAS (apt-get install g++ make libopenblas-dev), then run npm rebuild";
  console.warn(`morelora: the native backend could not be built, using the TypeScript backend; ${hint}`);
  if (process.env.MORELORA_NATIVE_VERBOSE === "1") console.warn(log);
  process.exit(process.env.MORELORA_REQUIRE_NATIVE === "1" ? 1 : 0);
}
const name = blas.stdout.trim();
// What the system BLAS would change, from the measurements in docs/performance.md.
const builtinNote =
  (process.env.MORELORA_BLAS ? `MORELORA_BLAS=${process.env.MORELORA_BLAS}` : "no system BLAS found") +
  ", using the built-in GEMM (kernels picked for this CPU at run time); " +
  "for the system one: apt-get install libopenblas-dev (or libblis-dev), then npm rebuild morelora " +
  "(measured side by side on an AVX-512 machine: the built-in GEMM ran at 0.85-1.2x OpenBLAS's speed on large products, so expect a modest change; docs/performance.md)";
console.log(`morelora: native backend built (BLAS: ${name === "builtin" ? builtinNote : name})`);
