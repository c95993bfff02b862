#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import "../backend/native.js";
import { registerBench } from "./bench.js";
import { registerCompare } from "./compare.js";
import { registerConvert } from "./convert.js";
import { registerDemo } from "./demo.js";
import { registerEval } from "./eval.js";
import { registerExport } from "./export.js";
import { registerGenerate } from "./generate.js";
import { registerInspect } from "./inspect.js";
import { registerMerge } from "./merge.js";
import { registerTrain } from "./train.js";

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** Builds the `morelora` command; each subcommand lives in its own file. */
export function buildProgram(): Command {
  const program = new Command("morelora")
    .description("LoRA-family fine-tuning for TypeScript")
    .version(packageVersion(), "-v, --version")
    .showHelpAfterError()
    .exitOverride();
  registerDemo(program);
  registerTrain(program);
  registerEval(program);
  registerMerge(program);
  registerExport(program);
  registerConvert(program);
  registerInspect(program);
  registerGenerate(program);
  registerCompare(program);
  registerBench(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.exitCode);
    // User errors: one clear line, no stack trace.
    console.error(`morelora: ${(e as Error).message}`);
    process.exit(1);
  }
}

await main();
