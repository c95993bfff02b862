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

/**
 * Multinomial logistic regression on binary features: weights [classes, vocab + 1] (the last
 * column is the bias). Mean cross-entropy plus (l2 / 2)·‖W‖² (bias excluded), and its gradient.
 */
export function logisticLoss(w: Float64Array, d: BagData, l2: number): { loss: number; grad: Float64Array } {
  const stride = d.vocab + 1;
  const grad = new Float64Array(w.length);
  const logits = new Float64Array(d.classes);
  let loss = 0;
  d.rows.forEach((row, i) => {
    for (let c = 0; c < d.classes; c++) {
      let z = w[c * stride + d.vocab];
      for (const v of row) z += w[c * stride + v];
      logits[c] = z;
    }
    const max = Math.max(...logits);
    let sum = 0;
    for (let c = 0; c < d.classes; c++) sum += Math.exp(logits[c] - max);
    loss += max + Math.log(sum) - logits[d.labels[i]];
    for (let c = 0; c < d.classes; c++) {
      const g = Math.exp(logits[c] - max) / sum - (c === d.labels[i] ? 1 : 0);
      grad[c * stride + d.vocab] += g;
      for (const v of row) grad[c * stride + v] += g;
    }
  });
  const n = Math.max(1, d.rows.length);
  loss /= n;
  for (let k = 0; k < w.length; k++) {
    grad[k] /= n;
    if (k % stride !== d.vocab) {
      loss += (l2 / 2) * w[k] * w[k];
      grad[k] += l2 * w[k];
    }
  }
  return { loss, grad };
}

/** Fits the regression with full-batch Adam (deterministic: starts at zero). */
export function fitLogistic(d: BagData, l2: number, iterations = 300, lr = 0.1): Float64Array {
  const w = new Float64Array(d.classes * (d.vocab + 1));
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
  const stride = d.vocab + 1;
  let right = 0;
  d.rows.forEach((row, i) => {
    let best = 0;
    let bestZ = -Infinity;
    for (let c = 0; c < d.classes; c++) {
      let z = w[c * stride + d.vocab];
      for (const v of row) z += w[c * stride + v];
      if (z > bestZ) [best, bestZ] = [c, z];
    }
    if (best === d.labels[i]) right++;
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
