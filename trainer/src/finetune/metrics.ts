/** Evaluation metrics of CAMD.md §5: FAR mean accuracy over attributes, FER top-1 with per-class accuracy and confusion. */

export interface FarMetrics {
  metric: 'mean_acc';
  value: number;
  per_attribute: Record<string, number>;
  n: number;
}

export interface FerMetrics {
  metric: 'top1';
  value: number;
  per_class: Record<string, number>;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  n: number;
}

/** Attribute k is predicted present when sigmoid(logit) > 0.5, i.e. logit > 0; accuracies averaged over attributes. */
export function farMetrics(logits: Float32Array, labels: number[][], names: string[]): FarMetrics {
  const K = names.length;
  const n = labels.length;
  const correct = new Array<number>(K).fill(0);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) if ((logits[i * K + k]! > 0 ? 1 : 0) === labels[i]![k]) correct[k]!++;
  const per = Object.fromEntries(names.map((nm, k) => [nm, correct[k]! / n]));
  return { metric: 'mean_acc', value: correct.reduce((a, b) => a + b, 0) / (n * K), per_attribute: per, n };
}

export function ferMetrics(logits: Float32Array, labels: number[], names: string[]): FerMetrics {
  const K = names.length;
  const confusion = names.map(() => new Array<number>(K).fill(0));
  let correct = 0;
  labels.forEach((y, i) => {
    let arg = 0;
    for (let k = 1; k < K; k++) if (logits[i * K + k]! > logits[i * K + arg]!) arg = k;
    confusion[y]![arg]!++;
    if (arg === y) correct++;
  });
  const per = Object.fromEntries(names.map((nm, k) => {
    const row = confusion[k]!;
    const tot = row.reduce((a, b) => a + b, 0);
    return [nm, tot ? row[k]! / tot : NaN];
  }));
  return { metric: 'top1', value: correct / labels.length, per_class: per, confusion, n: labels.length };
}
