import type { Command } from "commander";
import { getBackend } from "../backend/index.js";
import { trainMlpRegression } from "../demo/mlp-regression.js";
import { positiveInt } from "./args.js";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("train a small MLP on a synthetic regression with morelora's autograd and print its loss")
    .option("--steps <n>", "training steps", positiveInt("--steps"), 300)
    .option("--seed <n>", "random seed", (v) => Number(v), 0)
    .action((opts: { steps: number; seed: number }) => {
      const every = Math.max(1, Math.floor(opts.steps / 10));
      const started = performance.now();
      console.log(`morelora demo: 2-layer MLP, Adam, backend ${getBackend().name}`);
      const losses = trainMlpRegression({
        steps: opts.steps,
        seed: opts.seed,
        onStep: (step, loss) => {
          if (step === 1 || step % every === 0)
            console.log(`step ${String(step).padStart(5)}  loss ${loss.toFixed(5)}`);
        },
      });
      const secs = (performance.now() - started) / 1000;
      console.log(
        `loss ${losses[0].toFixed(4)} -> ${losses[losses.length - 1].toFixed(4)} in ${secs.toFixed(1)} s`,
      );
    });
}
