import { getBackend } from "../backend/index.js";
import * as pool from "./storage-pool.js";
import { empty, Tensor } from "./tensor.js";

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

/** Gradients for each input, given the gradient of the output; null where an input gets none. */
export type BackwardRule = (grad: Tensor) => readonly (Tensor | null)[];

/**
 * Where the gradient of one op input goes: the record of the op that computed it, the input itself
 * when it is a leaf that requires grad, or nowhere (null) for an input that requires none.
 */
export type Edge = GradFn | Tensor | null;

function releasedRule(): never {
  throw new Error(
    "backward() through a graph a second time: its buffers were released after the first backward",
  );
}

/**
 * The autograd record of the op that produced a tensor. It links to its inputs' records, not to
 * the input tensors, so the graph does not keep their data alive: an op keeps only what its
 * backward rule captures, which is what that rule reads (docs/memory.md, "What a step keeps").
 */
export class GradFn {
  constructor(
    readonly name: string,
    public edges: readonly Edge[],
    public backward: BackwardRule,
  ) {}

  /** Drops the rule and what it captured, once the backward has run it. */
  release(): void {
    this.edges = [];
    this.backward = releasedRule;
  }
}

function edgeOf(t: Tensor): Edge {
  return t.requiresGrad ? (t.gradFn ?? t) : null;
}

/**
 * Attaches the op's backward rule to out when any input is tracked; returns out. The rule must
 * capture only what it reads: each input it captures stays alive until the backward has run it.
 */
export function record(
  out: Tensor,
  name: string,
  inputs: readonly Tensor[],
  backwardRule: BackwardRule,
): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.gradFn = new GradFn(name, inputs.map(edgeOf), backwardRule);
  }
  return out;
}

type Node = GradFn | Tensor;

/** The records and leaves reachable from root, each after everything that uses it. */
function topologicalOrder(root: Node): Node[] {
  const order: Node[] = [];
  const visited = new Set<Node>([root]);
  const stack: [Node, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    const edges = node instanceof GradFn ? node.edges : [];
    if (i < edges.length) {
      top[1]++;
      const next = edges[i];
      if (next && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

function accumulate(into: Tensor, add: Tensor): void {
  const a = into.floatData;
  getBackend().binary("add", a, [1], add.floatData, [1], a, [a.length]);
}

/** A copy of t in storage from empty(), so that the backward owns it (a clone would not be). */
function ownedCopy(t: Tensor): Tensor {
  const data = empty(t.dtype, t.size);
  data.set(t.storage);
  return new Tensor(data, t.shape);
}

/**
 * Reverse-mode differentiation from root. Leaves that require grad get their .grad added to;
 * each record is released as soon as its rule has run, so the saved buffers go as the backward
 * proceeds. The buffers of consumed gradients that the backward made and nothing else uses go
 * back to the storage pool (src/tensor/storage-pool.ts, docs/memory.md): a gradient is pending
 * while it sits in `grads`, and each buffer counts its pending gradients.
 */
export function backward(root: Tensor, grad: Tensor): void {
  if (!root.requiresGrad) throw new Error("backward() on a tensor that does not require grad");
  if (grad.size !== root.size) throw new Error("backward(): the gradient's shape differs from the tensor's");

  const start = root.gradFn ?? root;
  const grads = new Map<Node, Tensor>();
  const pend = (node: Node, g: Tensor): void => {
    grads.set(node, g);
    pool.use(g.storage);
  };
  pool.beginBackward();
  // The caller's gradient stays the caller's: one use more than its pending ones, all along.
  pool.use(grad.storage);
  try {
    pend(start, grad);
    noGrad(() => {
      for (const node of topologicalOrder(start)) {
        const g = grads.get(node);
        grads.delete(node);
        if (!(node instanceof GradFn)) {
          if (!g) continue;
          pool.unuse(g.storage);
          if (node.grad) {
            accumulate(node.grad, g);
            pool.recycle(g.storage);
          } else if (pool.owns(g.storage, 0)) {
            pool.disown(g.storage);
            node.grad = new Tensor(g.storage, g.shape);
          } else node.grad = g.clone();
          continue;
        }
        const edges = node.edges;
        const inputGrads = g ? node.backward(g) : [];
        node.release();
        edges.forEach((edge, i) => {
          const ig = inputGrads[i];
          if (!ig || !edge) return;
          const prev = grads.get(edge);
          if (!prev) return pend(edge, ig);
          // Backward rules may hand the same gradient object to several inputs: a sum goes into
          // a buffer only this gradient uses, made by the backward.
          if (pool.owns(prev.storage, 1)) accumulate(prev, ig);
          else {
            const sum = ownedCopy(prev);
            accumulate(sum, ig);
            pool.unuse(prev.storage);
            pend(edge, sum);
          }
        });
        // Every input gradient is now pending or consumed: free what nothing uses any more.
        for (const ig of inputGrads) if (ig) pool.recycle(ig.storage);
        if (g) {
          pool.unuse(g.storage);
          pool.recycle(g.storage);
        }
      }
    });
  } finally {
    pool.unuse(grad.storage);
    pool.endBackward();
  }
}
