import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** One variant's sweep, seeds and checks on one task: the unit `compare --jobs` runs in a child. */
export interface Chain {
  /** A built-in task, or null for the one task of --model/--data. */
  task: string | null;
  variant: string;
}

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));

/**
 * Chains that fail one after another, none finishing in between, before no further chain starts:
 * a failure that repeats like this lies in the setup (a missing build, no memory), which would
 * otherwise fail every chain of the queue in turn within seconds.
 */
export const FAILURES_IN_A_ROW = 3;

/**
 * A compare command's own arguments without those each child gets its own value of (--jobs,
 * --tasks, --methods) or that only the parent acts on (--resume, --report-only).
 */
export function childArgs(args: readonly string[]): string[] {
  const withValue = new Set(["--jobs", "--tasks", "--methods"]);
  const alone = new Set(["--resume", "--report-only"]);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const [name] = args[i].split("=");
    if (withValue.has(name)) {
      if (!args[i].includes("=")) i++;
    } else if (!alone.has(args[i])) out.push(args[i]);
  }
  return out;
}

/**
 * Runs each chain as its own `morelora compare --cells-only` child, `jobs` at a time, one thread each
 * (unless MORELORA_THREADS says otherwise): chains do not depend on each other, they share the cell
 * store in the out folder (each cell is its own file, written atomically), and the children's
 * progress lines pass through. After SIGINT or SIGTERM no new chain starts; running ones save their
 * finished cells and stop; after FAILURES_IN_A_ROW failed chains in a row, none starts either.
 * Resolves to one line per chain that failed, and one for the chains not started.
 */
export async function runChains(
  chains: readonly Chain[],
  args: readonly string[],
  jobs: number,
): Promise<string[]> {
  const queue = [...chains];
  const failed: string[] = [];
  const running = new Set<ChildProcess>();
  let stopping = false;
  let failuresInARow = 0;
  // Ctrl-C reaches the children too (one process group); a SIGTERM for this process is passed on.
  const stop = (signal: NodeJS.Signals): void => {
    stopping = true;
    if (signal === "SIGTERM") for (const child of running) child.kill(signal);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const worker = async (): Promise<void> => {
    while (!stopping && failuresInARow < FAILURES_IN_A_ROW) {
      const chain = queue.shift();
      if (!chain) return;
      const own = [
        ...(chain.task ? ["--tasks", chain.task] : []),
        ...["--methods", chain.variant, "--resume", "--cells-only"],
      ];
      const error = await runChild([MAIN, "compare", ...args, ...own], running);
      if (error === null) failuresInARow = 0;
      else {
        failuresInARow++;
        failed.push(`${chain.task ?? "task"} ${chain.variant}: ${error}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, chains.length) }, worker));
  } finally {
    process.removeListener("SIGINT", stop);
    process.removeListener("SIGTERM", stop);
  }
  if (stopping) failed.push("stopped by a signal before every chain ran; continue with --resume");
  else if (queue.length)
    failed.push(
      `${queue.length} chain(s) not started after ${FAILURES_IN_A_ROW} failed in a row, ` +
        "which points at the setup rather than a variant; fix it and continue with --resume",
    );
  return failed;
}

/** Runs one child to its end (listed in `running` meanwhile); null when it succeeded, else its last line of error output. */
function runChild(args: string[], running: Set<ChildProcess>): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      stdio: ["ignore", "ignore", "pipe"],
      env: { MORELORA_THREADS: "1", ...process.env },
    });
    running.add(child);
    child.on("exit", () => running.delete(child));
    let last = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      process.stderr.write(text);
      const lines = text.trim().split("\n");
      last = lines[lines.length - 1] || last;
    });
    child.on("error", (e) => resolve(e.message));
    child.on("close", (code) => resolve(code === 0 ? null : last || `exit code ${code}`));
  });
}
