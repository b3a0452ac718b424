/**
 * The curves of a run: which metrics each kind of run draws, their names in a chart's legend, and
 * what the probe monitor's curves say, in words.
 */
import type { Series } from '../../electron/common/contract.js';

/** The probe monitor's accuracies (camd pretrain --probe-data): teacher and online encoder, k-NN and linear probe. */
export const PROBE = ['knn', 'linear', 'online_knn', 'online_linear'].flatMap((k) => [
  `probe/${k}_top1`,
  `probe/${k}_mean_acc`,
]);
/** The monitor's references, probed before the first step: an untrained network, and the number of held-out faces. */
const PROBE_REFS = [
  'probe/untrained_knn_top1',
  'probe/untrained_knn_mean_acc',
  'probe/untrained_linear_top1',
  'probe/untrained_linear_mean_acc',
  'probe/held_out',
];
/** The metrics each kind of run draws. */
export const CURVES: Record<string, string[]> = {
  pretrain: ['loss', 'loss_dense', 'loss_global', 'loss_agmd', 'lr', 'mm', 'images_per_s', ...PROBE, ...PROBE_REFS],
  finetune: ['loss', 'lr', 'test/nme', 'test/mae', 'test/mean_f1'],
  eval: [],
};

/** The geometry tasks' test metric, one point an epoch: its legend and its chart's title. */
export const TEST_METRIC_WORDS: Record<string, { legend: string; title: string }> = {
  'test/nme': { legend: 'test NME', title: 'Test NME after each epoch (lower is better)' },
  'test/mae': { legend: 'test MAE (°)', title: 'Test MAE after each epoch, degrees (lower is better)' },
  'test/mean_f1': { legend: 'test mean F1', title: 'Test mean F1 after each epoch (higher is better)' },
};

/** A curve's name in a chart's legend. */
export const curveLabel = (s: Series) => {
  const probe = /^probe\/(online_)?(knn|linear)_/.exec(s.name);
  if (probe) return `${probe[2] === 'knn' ? 'k-NN' : 'linear probe'} (${probe[1] ? 'online' : 'teacher'})`;
  if (s.name in TEST_METRIC_WORDS) return TEST_METRIC_WORDS[s.name]!.legend;
  return s.name.replace('loss_', '').replace('images_per_s', 'images/s').replace('mm', 'momentum');
};

/**
 * Whether the probe moves, in words: the teacher's newest k-NN and linear-probe accuracies against
 * the run's start and an untrained network; a difference counts when it is more than one held-out
 * face (1/n of the accuracy).
 */
export function probeVerdict(series: Series[]): { moved: boolean | null; text: string } | null {
  const raw = (name: string) => series.find((x) => x.name === name && x.y.length > 0);
  const m = raw('probe/knn_top1') ? 'top1' : raw('probe/knn_mean_acc') ? 'mean_acc' : null;
  const held = raw('probe/held_out')?.y[0];
  if (!m || !held) return null;
  const knn = raw(`probe/knn_${m}`)!;
  const lin = raw(`probe/linear_${m}`);
  const untrained = [raw(`probe/untrained_knn_${m}`)?.y[0], raw(`probe/untrained_linear_${m}`)?.y[0]];
  if (knn.y.length < 2 || !lin || untrained.some((v) => v === undefined))
    return {
      moved: null as boolean | null,
      text: `Probed at the start on ${held} held-out faces: k-NN ${knn.y[0]!.toFixed(3)}, linear ${lin?.y[0]?.toFixed(3) ?? '–'}; an untrained network ${untrained[0]?.toFixed(3) ?? '–'} and ${untrained[1]?.toFixed(3) ?? '–'}. The next probe says whether training moves them.`,
    };
  const face = 1 / held;
  const now = [knn.y.at(-1)!, lin.y.at(-1)!];
  const start = [knn.y[0]!, lin.y[0]!];
  const above = (a: number[], b: number[]) => a.some((v, i) => v - b[i]! > face + 1e-9);
  const below = (a: number[], b: number[]) => a.every((v, i) => v - b[i]! < -face - 1e-9);
  const overStart = above(now, start);
  const overUntrained = above(now, untrained as number[]);
  const nums = `k-NN ${now[0]!.toFixed(3)}, linear ${now[1]!.toFixed(3)} now; ${start[0]!.toFixed(3)}, ${start[1]!.toFixed(3)} at the start; ${untrained[0]!.toFixed(3)}, ${untrained[1]!.toFixed(3)} for an untrained network (teacher, ${held} held-out faces: one face is ${(100 * face).toFixed(1)} points)`;
  if (overStart && overUntrained)
    return {
      moved: true,
      text: `The probe moves: better than at the start and than an untrained network by more than one face — ${nums}.`,
    };
  if (overStart)
    return {
      moved: true,
      text: `Better than at the start by more than one face, not yet better than an untrained network — ${nums}.`,
    };
  if (below(now, start)) return { moved: false, text: `Worse than at the start by more than one face — ${nums}.` };
  return { moved: false, text: `The probe has not moved yet: within one face of the start — ${nums}.` };
}
