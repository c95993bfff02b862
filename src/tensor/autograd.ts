import { getBackend } from "../backend/index.js";
import type { GradFn, Tensor } from "./tensor.js";

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with gradient recording off: nothing it computes joins the graph. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs fn with gradient recording on (a recompute inside a backward, which runs without it). */
export function withGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Attaches the op's backward rule to out when any input is tracked; returns out. */
export function record(
  out: Tensor,
  name: string,
  inputs: readonly Tensor[],
  backwardRule: GradFn["backward"],
): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.gradFn = { name, inputs, backward: backwardRule };
  }
  return out;
}

const released: GradFn = {
  name: "released",
  inputs: [],
  backward: () => {
    throw new Error(
      "backward() through a graph a second time: its buffers were released after the first backward",
    );
  },
};

/** Tensors reachable from root through tracked inputs, each after everything that uses it. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i];
      if (next.requiresGrad && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

function accumulate(into: Tensor, add: Tensor): void {
  const a = into.floatData;
  getBackend().binary("add", a, [1], add.floatData, [1], a, [a.length]);
}

/**
 * Reverse-mode differentiation from root. Leaves that require grad get their .grad added to;
 * the graph's saved buffers are released afterwards.
 */
export function backward(root: Tensor, grad: Tensor): void {
  if (!root.requiresGrad) throw new Error("backward() on a tensor that does not require grad");
  if (grad.size !== root.size) throw new Error("backward(): the gradient's shape differs from the tensor's");

  const grads = new Map<Tensor, Tensor>([[root, grad]]);
  const order = topologicalOrder(root);
  const owned = new Set<Tensor>();
  noGrad(() => {
    for (const t of order) {
      const g = grads.get(t);
      grads.delete(t);
      if (!g) continue;
      const fn = t.gradFn;
      if (!fn) {
        if (t.grad) accumulate(t.grad, g);
        else t.grad = g.clone();
        continue;
      }
      const inputGrads = fn.backward(g);
      fn.inputs.forEach((input, i) => {
        const ig = inputGrads[i];
        if (!ig || !input.requiresGrad) return;
        const prev = grads.get(input);
        if (prev) {
          // Backward rules may hand the same gradient object to several inputs, so sums go
          // into a copy this loop owns.
          const sum = owned.has(prev) ? prev : prev.clone();
          accumulate(sum, ig);
          owned.add(sum);
          grads.set(input, sum);
        } else grads.set(input, ig);
      });
    }
  });
  for (const t of order) if (t.gradFn) t.gradFn = released;
}
