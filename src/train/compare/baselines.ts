import type { Example } from "../tasks.js";

/** Accuracy of always predicting the most frequent training label. */
export function majorityClass(train: readonly Example[]): {
  label: number;
  score: (ex: readonly Example[]) => number;
} {
  const counts = new Map<number, number>();
  for (const e of train) counts.set(e.label!, (counts.get(e.label!) ?? 0) + 1);
  const label = [...counts].reduce((a, b) => (b[1] > a[1] || (b[1] === a[1] && b[0] < a[0]) ? b : a))[0];
  return { label, score: (ex) => ex.filter((e) => e.label === label).length / Math.max(1, ex.length) };
}

/** A bag of tokens: the distinct token ids of each example, mapped to feature columns 0..vocab−1. */
export interface BagData {
  rows: Int32Array[];
  labels: Int32Array;
  vocab: number;
  classes: number;
}

/** Features from the tokens seen in training (others are dropped); the same map serves every split. */
export function bagOfTokens(
  train: readonly Example[],
  classes: number,
): { vocab: number; bag: (ex: readonly Example[]) => BagData } {
  const column = new Map<number, number>();
  for (const e of train) for (const id of e.ids) if (!column.has(id)) column.set(id, column.size);
  const bag = (ex: readonly Example[]): BagData => ({
    rows: ex.map((e) =>
      Int32Array.from(new Set([...e.ids].filter((id) => column.has(id)).map((id) => column.get(id)!))),
    ),
    labels: Int32Array.from(ex.map((e) => e.label!)),
    vocab: column.size,
    classes,
  });
  return { vocab: column.size, bag };
}

/** Writes into `logits` one example's scores per class: the bias row plus its tokens' rows. */
function exampleLogits(w: Float64Array, d: BagData, row: Int32Array, logits: Float64Array): void {
  const classes = d.classes;
  const bias = d.vocab * classes;
  for (let c = 0; c < classes; c++) logits[c] = w[bias + c];
  for (let j = 0; j < row.length; j++) {
    const at = row[j] * classes;
    for (let c = 0; c < classes; c++) logits[c] += w[at + c];
  }
}

/**
 * Multinomial logistic regression on binary features: weights [vocab + 1, classes] (the last row is
 * the bias; a token's weights for every class lie side by side, so each example reads and writes
 * its rows' contiguous runs). Mean cross-entropy plus (l2 / 2)·‖W‖² (bias excluded), and its
 * gradient.
 */
export function logisticLoss(w: Float64Array, d: BagData, l2: number): { loss: number; grad: Float64Array } {
  const classes = d.classes;
  const bias = d.vocab * classes;
  const grad = new Float64Array(w.length);
  // Per example: the logits, then in place their softmax, then the loss's gradient by the logits.
  // (Indexed loops: every iteration of every fit runs this over all training examples, and
  // iterators and callbacks here took twice the time.)
  const logits = new Float64Array(classes);
  let loss = 0;
  for (let i = 0; i < d.rows.length; i++) {
    const row = d.rows[i];
    const label = d.labels[i];
    exampleLogits(w, d, row, logits);
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[c]);
    loss += max - logits[label];
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      logits[c] = Math.exp(logits[c] - max);
      sum += logits[c];
    }
    loss += Math.log(sum);
    for (let c = 0; c < classes; c++) {
      logits[c] = logits[c] / sum - (c === label ? 1 : 0);
      grad[bias + c] += logits[c];
    }
    for (let j = 0; j < row.length; j++) {
      const at = row[j] * classes;
      for (let c = 0; c < classes; c++) grad[at + c] += logits[c];
    }
  }
  const n = Math.max(1, d.rows.length);
  loss /= n;
  for (let k = 0; k < w.length; k++) {
    grad[k] /= n;
    if (k < bias) {
      loss += (l2 / 2) * w[k] * w[k];
      grad[k] += l2 * w[k];
    }
  }
  return { loss, grad };
}

/** Fits the regression with full-batch Adam (deterministic: starts at zero). */
export function fitLogistic(d: BagData, l2: number, iterations = 300, lr = 0.1): Float64Array {
  const w = new Float64Array((d.vocab + 1) * d.classes);
  const m = new Float64Array(w.length);
  const v = new Float64Array(w.length);
  for (let t = 1; t <= iterations; t++) {
    const { grad } = logisticLoss(w, d, l2);
    for (let k = 0; k < w.length; k++) {
      m[k] = 0.9 * m[k] + 0.1 * grad[k];
      v[k] = 0.999 * v[k] + 0.001 * grad[k] * grad[k];
      w[k] -= (lr * (m[k] / (1 - 0.9 ** t))) / (Math.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8);
    }
  }
  return w;
}

/** Accuracy of fitted weights on bagged examples. */
export function logisticAccuracy(w: Float64Array, d: BagData): number {
  const logits = new Float64Array(d.classes);
  let right = 0;
  d.rows.forEach((row, i) => {
    exampleLogits(w, d, row, logits);
    // The first class of the highest score, as a scan with a strict comparison picks it.
    if (logits.indexOf(logits.reduce((a, b) => Math.max(a, b))) === d.labels[i]) right++;
  });
  return right / Math.max(1, d.rows.length);
}

export interface BaselineScore {
  name: string;
  parameters: number;
  validation: number;
  test: number | null;
  /** What was chosen on validation (the L2 strength of the regression). */
  chosen?: string;
  /** A constant answer: a method that does no better learned nothing (findings say so). */
  floor?: boolean;
}

/** Majority class and bag-of-tokens logistic regression (L2 strength chosen on validation). */
export function classificationBaselines(
  train: readonly Example[],
  validation: readonly Example[],
  test: readonly Example[],
  classes: number,
): BaselineScore[] {
  const majority = majorityClass(train);
  const { vocab, bag } = bagOfTokens(train, classes);
  const [tr, va, te] = [bag(train), bag(validation), bag(test)];
  const fits = [1e-4, 1e-3, 1e-2].map((l2) => {
    const w = fitLogistic(tr, l2);
    return { l2, w, validation: logisticAccuracy(w, va) };
  });
  const best = fits.reduce((a, b) => (b.validation > a.validation ? b : a));
  return [
    {
      name: "majority class",
      parameters: 0,
      validation: majority.score(validation),
      test: test.length ? majority.score(test) : null,
      floor: true,
    },
    {
      name: "bag-of-tokens logistic regression",
      parameters: classes * (vocab + 1),
      validation: best.validation,
      test: test.length ? logisticAccuracy(best.w, te) : null,
      chosen: `L2 ${best.l2}`,
    },
  ];
}
