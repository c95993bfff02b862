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
