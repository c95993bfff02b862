import { arch, cpus } from "node:os";
import { getBackend } from "../src/backend/index.js";
import { gemmGflops } from "./gemm.js";

/** One benchmark: a name and a function returning its measured figures. */
interface Workload {
  name: string;
  run: () => Record<string, number | string>;
}

const workloads: Workload[] = [
  {
    name: "gemm",
    run: () => ({
      "gflops_512^3": gemmGflops(512, 512, 512, 3),
      "gflops_1024^3": gemmGflops(1024, 1024, 1024, 3),
    }),
  },
];

function parseArgs(argv: string[]): { json: boolean; only: Set<string> | null } {
  const json = argv.includes("--json");
  const i = argv.indexOf("--only");
  const only = i >= 0 ? new Set(argv[i + 1]?.split(",") ?? []) : null;
  return { json, only };
}

const { json, only } = parseArgs(process.argv.slice(2));
const machine = `${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores, ${arch()})`;
if (!json) console.log(`machine: ${machine}\nbackend: ${getBackend().name}`);
for (const w of workloads) {
  if (only && !only.has(w.name)) continue;
  const figures = { workload: w.name, backend: getBackend().name, ...w.run() };
  if (json) console.log(JSON.stringify({ ...figures, machine }));
  else
    console.log(
      Object.entries(figures as Record<string, number | string>)
        .map(([k, v]) => `${k}=${typeof v === "number" ? v.toFixed(2) : v}`)
        .join("  "),
    );
}
