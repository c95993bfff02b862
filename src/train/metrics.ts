/**
 * Accuracy and F1 of class predictions (binary F1 of class 1 for two classes, macro F1 otherwise),
 * and the confusion matrix: confusion[true class][predicted class] counts.
 */
export function classificationMetrics(
  predicted: readonly number[],
  actual: readonly number[],
  numClasses: number,
): { accuracy: number; f1: number; confusion: number[][] } {
  const correct = predicted.filter((p, i) => p === actual[i]).length;
  const f1Of = (c: number): number => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    predicted.forEach((p, i) => {
      if (p === c && actual[i] === c) tp++;
      else if (p === c) fp++;
      else if (actual[i] === c) fn++;
    });
    return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  };
  const classes = numClasses === 2 ? [1] : Array.from({ length: numClasses }, (_, c) => c);
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  predicted.forEach((p, i) => confusion[actual[i]][p]++);
  return {
    accuracy: correct / Math.max(1, actual.length),
    f1: classes.reduce((s, c) => s + f1Of(c), 0) / classes.length,
    confusion,
  };
}
