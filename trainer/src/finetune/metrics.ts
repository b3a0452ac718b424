/**
 * Evaluation metrics of method.md §5: FAR mean accuracy over attributes, FER top-1 with per-class
 * accuracy and confusion — each with the baselines an accuracy must be read against: always
 * answering the split's most common class (per attribute for FAR) and guessing at random, and
 * whether the model answers one class for every face (then its accuracy is only the majority's).
 */
import type { Task } from '../labels/label-files.js';
import type { ResolvedItem } from './dataset.js';

/** What an accuracy is worth: a model that always gives the split's most common answer scores `majority`; guessing scores `chance`. */
export interface Baselines {
  majority: number;
  chance: number;
}

export interface FarMetrics {
  metric: 'mean_acc';
  value: number;
  per_attribute: Record<string, number>;
  n: number;
  baselines: Baselines;
  /** Attributes the model predicts the same way (present, or absent) for every face of the split. */
  constant_attributes: string[];
}

export interface FerMetrics {
  metric: 'top1';
  value: number;
  per_class: Record<string, number>;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  n: number;
  baselines: Baselines & { majority_class: string };
  /** The classes the model predicted at least once. */
  predicted_classes: string[];
}

/** Attribute k is predicted present when sigmoid(logit) > 0.5, i.e. logit > 0; accuracies averaged over attributes. */
export function farMetrics(logits: Float32Array, labels: number[][], names: string[]): FarMetrics {
  const K = names.length;
  const n = labels.length;
  const correct = new Array<number>(K).fill(0);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < K; k++) if ((logits[i * K + k]! > 0 ? 1 : 0) === labels[i]![k]) correct[k]!++;
  const per = Object.fromEntries(names.map((nm, k) => [nm, correct[k]! / n]));
  let majority = 0;
  const constant: string[] = [];
  for (let k = 0; k < K; k++) {
    let pos = 0;
    let predPos = 0;
    for (let i = 0; i < n; i++) {
      pos += labels[i]![k]!;
      if (logits[i * K + k]! > 0) predPos++;
    }
    majority += Math.max(pos, n - pos) / n;
    if (n > 0 && (predPos === 0 || predPos === n)) constant.push(names[k]!);
  }
  return {
    metric: 'mean_acc',
    value: correct.reduce((a, b) => a + b, 0) / (n * K),
    per_attribute: per,
    n,
    baselines: { majority: K ? majority / K : NaN, chance: 0.5 },
    constant_attributes: constant,
  };
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
  const per = Object.fromEntries(
    names.map((nm, k) => {
      const row = confusion[k]!;
      const tot = row.reduce((a, b) => a + b, 0);
      return [nm, tot ? row[k]! / tot : NaN];
    }),
  );
  const counts = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const top = counts.indexOf(Math.max(...counts));
  const predicted = names.filter((_, k) => confusion.some((row) => row[k]! > 0));
  return {
    metric: 'top1',
    value: correct / labels.length,
    per_class: per,
    confusion,
    n: labels.length,
    baselines: { majority: counts[top]! / labels.length, chance: 1 / K, majority_class: names[top]! },
    predicted_classes: predicted,
  };
}

/** The task's metric of logits (items × K) against the items' labels: FAR mean accuracy, FER top-1. */
export function metricsOf(
  task: Task,
  logits: Float32Array,
  items: ResolvedItem[],
  names: string[],
): FarMetrics | FerMetrics {
  return task === 'far'
    ? farMetrics(
        logits,
        items.map((i) => i.labels),
        names,
      )
    : ferMetrics(
        logits,
        items.map((i) => i.labels[0]!),
        names,
      );
}

/** The baseline fields of an `eval` event (protocol/events.ts): majority, chance, and the one answer a model gives to every face, if it gives one. */
export function baselineFields(r: FarMetrics | FerMetrics): {
  majority: number;
  chance: number;
  one_answer: string | null;
} {
  const one =
    r.metric === 'top1'
      ? r.predicted_classes.length === 1
        ? r.predicted_classes[0]!
        : null
      : r.constant_attributes.length > 0
        ? `${r.constant_attributes.length} of ${Object.keys(r.per_attribute).length} attributes the same for every face`
        : null;
  return { majority: r.baselines.majority, chance: r.baselines.chance, one_answer: one };
}

/** One line on what an accuracy is worth beside its baselines (the CLI's and the log's words). */
export function baselineWords(
  value: number,
  b: { majority?: number | undefined; chance?: number | undefined; one_answer?: string | null | undefined },
  metric: 'top1' | 'mean_acc',
): string {
  if (b.majority === undefined) return '';
  const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
  const base = `majority ${metric === 'top1' ? 'class' : 'answer per attribute'} ${pct(b.majority)}, chance ${pct(b.chance ?? NaN)}`;
  if (b.one_answer && metric === 'top1')
    return `${base} — the model answers ${b.one_answer} for every face: no better than always answering it`;
  if (b.one_answer) return `${base} — ${b.one_answer}`;
  if (value <= b.majority + 1e-9) return `${base} — no better than always giving the most common answer`;
  return base;
}
