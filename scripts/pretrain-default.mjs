// Reproduces the built-in model in assets/morelora-default from scratch (tokenizer and weights):
//   npm run build && node scripts/pretrain-default.mjs [outDir] [steps]
import "../build/src/backend/native.js";
import { pretrainDefault } from "../build/src/demo/pretrain.js";

const outDir = process.argv[2] ?? "assets/morelora-default";
const steps = Number(process.argv[3] ?? 1500);
const started = performance.now();
const { validationLoss } = await pretrainDefault({
  outDir,
  steps,
  onLog: (e) => {
    if (e.eval_loss !== undefined || e.step % 25 === 0) {
      const t = ((performance.now() - started) / 1000).toFixed(0);
      console.log(
        `step ${e.step} ${t}s ${e.loss !== undefined ? `loss ${e.loss.toFixed(3)}` : `validation loss ${e.eval_loss.toFixed(3)}`}`,
      );
    }
  },
});
console.log(`wrote ${outDir}: validation loss ${validationLoss.toFixed(3)} after ${steps} steps`);
