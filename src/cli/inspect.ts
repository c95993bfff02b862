import { statSync } from "node:fs";
import { join } from "node:path";
import Table from "cli-table3";
import type { Command } from "commander";
import { type AdapterSummary, inspectAdapter } from "../adapters/index.js";
import {
  fileExists,
  inspectModelFolder,
  inspectSafetensors,
  type ModelFolderSummary,
  type SafetensorsSummary,
} from "../io/index.js";

type Summary = AdapterSummary | ModelFolderSummary | SafetensorsSummary;

/** Tells an adapter folder, a model folder and a .safetensors file apart, and summarises it. */
export function inspectPath(path: string): Summary {
  if (!fileExists(path)) throw new Error(`${path}: no such file or folder`);
  if (!statSync(path).isDirectory()) {
    if (!path.endsWith(".safetensors"))
      throw new Error(`${path}: expected a .safetensors file, an adapter folder or a model folder`);
    return inspectSafetensors(path);
  }
  if (fileExists(join(path, "adapter_config.json"))) return inspectAdapter(path);
  return inspectModelFolder(path);
}

const count = (n: number): string => n.toLocaleString("en-US");
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    style: { head: [], border: [], compact: true },
  });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString();
}

function render(s: Summary): string {
  if (s.kind === "adapter") {
    const rows = s.modules.map((m) => [
      m.path,
      m.r,
      m.alpha,
      m.scale.toFixed(4),
      count(m.parameters),
      m.deltaNorm === null ? "needs base" : m.deltaNorm.toExponential(3),
    ]);
    return [
      `adapter ${s.path}: ${s.method} (${s.peftType}), r ${s.r}, alpha ${s.alpha}, targets ${JSON.stringify(s.targetModules)}`,
      table(["module", "r", "alpha", "scale", "params", "‖ΔW‖"], rows),
      ...(s.sharedParameters ? [`shared maps: ${count(s.sharedParameters)} params`] : []),
      ...(s.otherTensors.length
        ? [`full tensors (modules_to_save, biases): ${s.otherTensors.join(", ")}`]
        : []),
      `trainable params: ${count(s.totalParameters)}`,
    ].join("\n");
  }
  if (s.kind === "model") {
    const config = Object.entries(s.config).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
    const dtypes = Object.entries(s.dtypes)
      .map(([d, n]) => `${d} ×${n}`)
      .join(", ");
    return [
      `model ${s.path}`,
      ...config,
      `${s.files.length} file(s), ${count(s.tensors)} tensors (${dtypes}), ${count(s.parameters)} params, ${mib(s.bytes)}`,
    ].join("\n");
  }
  return [
    `${s.path}: ${count(s.tensors.length)} tensors, ${count(s.parameters)} params, ${mib(s.bytes)}`,
    table(
      ["tensor", "dtype", "shape"],
      s.tensors.map((t) => [t.name, t.dtype, `[${t.shape.join(", ")}]`]),
    ),
  ].join("\n");
}

export function registerInspect(program: Command): void {
  program
    .command("inspect")
    .description("describe an adapter folder, a model folder or a .safetensors file")
    .argument("<path>", "adapter folder, model folder or .safetensors file")
    .option("--json", "print JSON instead of tables")
    .action((path: string, opts: { json?: boolean }) => {
      const summary = inspectPath(path);
      console.log(opts.json ? JSON.stringify(summary, null, 2) : render(summary));
    });
}
