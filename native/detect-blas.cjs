// Finds the platform BLAS for binding.gyp and prints, by argv[2], its include dirs, defines,
// libraries or name. macOS links Accelerate; Linux prefers OpenBLAS, then BLIS; with none the addon
// uses its built-in GEMM. MORELORA_BLAS=builtin|openblas|accelerate|blis forces one (docs/performance.md).
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const libDirs = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/usr/lib64",
  "/usr/lib",
  "/usr/local/lib",
  "/opt/homebrew/lib",
];
const hasLib = (name) =>
  libDirs.some((d) => existsSync(join(d, `lib${name}.so`)) || existsSync(join(d, `lib${name}.dylib`)));
const headerIn = (dirs) => dirs.find((d) => existsSync(join(d, "cblas.h")));

const candidates = {
  accelerate: () =>
    process.platform === "darwin"
      ? {
          header: "",
          defines: ["MORELORA_HAVE_CBLAS", "MORELORA_ACCELERATE"],
          libraries: "-framework Accelerate",
        }
      : null,
  openblas: () => {
    const header = headerIn([
      "/usr/include/x86_64-linux-gnu",
      "/usr/include/aarch64-linux-gnu",
      "/usr/include/openblas",
      "/usr/include",
      "/usr/local/include",
      "/opt/homebrew/opt/openblas/include",
    ]);
    return header && hasLib("openblas")
      ? { header, defines: ["MORELORA_HAVE_CBLAS", "MORELORA_OPENBLAS"], libraries: "-lopenblas" }
      : null;
  },
  blis: () => {
    const header = headerIn(["/usr/include/blis", "/usr/local/include/blis"]);
    return header && hasLib("blis")
      ? { header, defines: ["MORELORA_HAVE_CBLAS", "MORELORA_BLIS"], libraries: "-lblis" }
      : null;
  },
};
const BUILTIN = { name: "builtin", header: "", defines: [], libraries: "" };

function detect() {
  const forced = process.env.MORELORA_BLAS === "none" ? "builtin" : process.env.MORELORA_BLAS;
  if (forced === "builtin") return BUILTIN;
  if (forced) {
    const find = candidates[forced];
    if (!find) {
      console.error(`morelora: MORELORA_BLAS=${forced}: expected one of builtin, openblas, accelerate, blis`);
      process.exit(2);
    }
    const found = find();
    if (!found) {
      console.error(`morelora: MORELORA_BLAS=${forced}: ${forced} was not found on this machine`);
      process.exit(2);
    }
    return { name: forced, ...found };
  }
  for (const [name, find] of Object.entries(candidates)) {
    const found = find();
    if (found) return { name, ...found };
  }
  return BUILTIN;
}

const found = detect();
const what = process.argv[2];
if (what === "include_dirs") console.log(found.header);
else if (what === "defines") console.log(found.defines.join(" "));
else if (what === "libraries") console.log(found.libraries);
else if (what === "name") console.log(found.name);
else {
  console.error("usage: detect-blas.cjs include_dirs|defines|libraries|name");
  process.exit(2);
}
