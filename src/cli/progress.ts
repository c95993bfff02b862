import { SingleBar } from "cli-progress";

/** A progress display: a bar with ETA and throughput on a terminal, plain lines otherwise or when quiet. */
export interface Progress {
  update(done: number, info: Record<string, string | number>): void;
  stop(): void;
}

export function progress(label: string, total: number, { quiet = false, unit = "steps" } = {}): Progress {
  const started = performance.now();
  if (!quiet && process.stderr.isTTY) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted} | {info}`,
      hideCursor: true,
      stream: process.stderr,
    });
    bar.start(total, 0, { rate: "0", info: "" });
    return {
      update(done, info) {
        const rate = (done / ((performance.now() - started) / 1000)).toFixed(2);
        bar.update(done, {
          rate,
          info: Object.entries(info)
            .map(([k, v]) => `${k} ${v}`)
            .join(" "),
        });
      },
      stop: () => bar.stop(),
    };
  }
  const every = Math.max(1, Math.floor(total / 10));
  return {
    update(done, info) {
      if (quiet || (done % every !== 0 && done !== total)) return;
      const rate = (done / ((performance.now() - started) / 1000)).toFixed(2);
      console.log(
        `${label} ${done}/${total} ${unit} (${rate}/s) ${Object.entries(info)
          .map(([k, v]) => `${k} ${v}`)
          .join(" ")}`,
      );
    },
    stop: () => {},
  };
}

/** Shown only once this much has passed: quick loads and evaluations print nothing. */
const SLOW_MS = 2000;

/**
 * Progress of a phase whose length is only known as it runs (loading, evaluating): nothing is
 * shown unless it is still going after two seconds, then a bar (or plain lines) as progress() shows.
 */
export function slowProgress(
  label: string,
  { quiet = false, unit = "batches" } = {},
): { update(done: number, total: number): void; stop(): void } {
  let started = performance.now();
  let last = 0;
  let shown: Progress | null = null;
  return {
    update(done, total) {
      if (quiet) return;
      // A count that starts again is a new run of the phase (the trainer evaluates several times).
      if (done <= last) started = performance.now();
      last = done;
      if (!shown && performance.now() - started < SLOW_MS) return;
      shown ??= progress(label, total, { unit });
      shown.update(done, {});
      if (done === total) this.stop();
    },
    stop() {
      shown?.stop();
      shown = null;
      last = 0;
    },
  };
}
