import { backward, GradFn, isGradEnabled, record, withGrad } from "./autograd.js";
import type { Generator } from "./random.js";
import { Tensor } from "./tensor.js";

/** The leaves that require grad in the graph of t (other than stop). */
function trainedLeaves(t: Tensor, stop: Tensor): Tensor[] {
  const leaves = new Set<Tensor>();
  const root = t.gradFn ?? t;
  const seen = new Set<GradFn | Tensor>([root]);
  const stack = [root];
  for (let n = stack.pop(); n; n = stack.pop()) {
    if (!(n instanceof GradFn)) {
      if (n !== stop) leaves.add(n);
      continue;
    }
    for (const edge of n.edges)
      if (edge && !seen.has(edge)) {
        seen.add(edge);
        stack.push(edge);
      }
  }
  return [...leaves];
}

/**
 * Gradient checkpointing of one block y = fn(x) (docs/memory.md): the forward
 * keeps only x, and the backward runs fn again, with the generators (dropout) set back to where
 * they stood so that the same masks are drawn, then back-propagates through that fresh graph.
 * The gradients are those of running fn plainly: the same kernels in the same order, and the
 * gradients of the trained tensors fn uses (found in its graph) return to the outer backward as
 * this op's input gradients, so a tensor shared by several blocks sums them in the same order.
 * x must be fn's only input that comes from a graph outside it.
 */
export function checkpoint(fn: (x: Tensor) => Tensor, x: Tensor, generators: readonly Generator[]): Tensor {
  if (!isGradEnabled()) return fn(x);
  const states = generators.map((g) => g.getState());
  const input = x.detach().requireGrad(x.requiresGrad);
  const first = fn(input);
  if (!first.requiresGrad) return first;
  // The graph of this first run only shows which trained tensors fn uses; it is dropped here.
  const params = trainedLeaves(first, input);
  const out = new Tensor(first.data, first.shape);
  return record(out, "checkpoint", [x, ...params], (g) => {
    const after = generators.map((gen) => gen.getState());
    generators.forEach((gen, i) => gen.setState(states[i]));
    const xi = x.detach().requireGrad(x.requiresGrad);
    const again = withGrad(() => fn(xi));
    generators.forEach((gen, i) => gen.setState(after[i]));
    // The inner backward adds into .grad of the leaves: take those sums out as this op's result.
    const kept = params.map((p) => p.grad);
    for (const p of params) p.grad = null;
    backward(again, g);
    const grads = params.map((p, i) => {
      const grad = p.grad;
      p.grad = kept[i];
      return grad;
    });
    return [xi.grad, ...grads];
  });
}
