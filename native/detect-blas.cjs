// Finds a system CBLAS for binding.gyp: prints include dirs, defines or libraries (by argv[2]).
// OpenBLAS first, then BLIS; none found (or MORELORA_BLAS=none) builds the addon's own GEMM.
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const libDirs = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/usr/lib64",
  "/usr/lib",
  "/usr/local/lib",
];
const hasLib = (name) => libDirs.some((d) => existsSync(join(d, `lib${name}.so`)));

const candidates = [
  {
    lib: "openblas",
    defines: ["MORELORA_HAVE_CBLAS", "MORELORA_OPENBLAS"],
    headers: [
      "/usr/include/x86_64-linux-gnu",
      "/usr/include/aarch64-linux-gnu",
      "/usr/include/openblas",
      "/usr/include",
      "/usr/local/include",
    ],
  },
  {
    lib: "blis",
    defines: ["MORELORA_HAVE_CBLAS"],
    headers: ["/usr/include/blis", "/usr/local/include/blis"],
  },
];

function detect() {
  if (process.env.MORELORA_BLAS === "none") return null;
  for (const c of candidates) {
    const header = c.headers.find((d) => existsSync(join(d, "cblas.h")));
    if (header && hasLib(c.lib)) return { ...c, header };
  }
  return null;
}

const found = detect();
const what = process.argv[2];
if (what === "include_dirs") console.log(found ? found.header : "");
else if (what === "defines") console.log(found ? found.defines.join(" ") : "");
else if (what === "libraries") console.log(found ? `-l${found.lib}` : "");
else if (what === "name") console.log(found ? found.lib : "builtin");
else {
  console.error("usage: detect-blas.cjs include_dirs|defines|libraries|name");
  process.exit(2);
}
