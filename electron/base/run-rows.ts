/**
 * Runs as the contract shows them: the row, the settings that tell runs apart (from the app's
 * spec, or from the configuration the CLI recorded) and the run's headline number (the last loss
 * of a pre-training; the selected test value of a fine-tuning or an evaluation).
 */
import type { Store } from 'camd-studio/trainer';
import type { Run } from '../common/contract.js';

const KEYS: Record<Run['kind'], string[]> = {
  pretrain: ['preset', 'imgSize', 'maskRatio', 'batch', 'epochs', 'steps', 'blr', 'seed'],
  finetune: ['task', 'format', 'init', 'preset', 'linearProbe', 'fewShot', 'epochs', 'batch', 'blr', 'seed'],
  eval: ['task', 'format', 'checkpoint'],
};

type Raw = NonNullable<ReturnType<Store['runSummary']>>;

/** The headline's baselines from its evaluation's detail (absent for evaluations recorded before they were). */
function baselinesOf(json: string | null): {
  majority: number | null;
  chance: number | null;
  one_answer: string | null;
} {
  const b = parse(json);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const predicted = typeof b['predicted'] === 'string' ? (parse(b['predicted']) as unknown) : b['predicted'];
  const one =
    Array.isArray(predicted) && predicted.length === 1 && typeof predicted[0] === 'string'
      ? predicted[0]
      : typeof b['constant'] === 'number' && b['constant'] > 0
        ? `${b['constant']} attribute(s) the same for every face`
        : null;
  return { majority: num(b['majority']), chance: num(b['chance']), one_answer: one };
}

function parse(s: string | null): Record<string, unknown> {
  try {
    return s ? (JSON.parse(s) as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function toRun(r: Raw): Run {
  const spec = parse(r.spec);
  const config = parse(r.config);
  // runs made by the CLI: the settings the trainer recorded
  const settings = { ...((config['settings'] as Record<string, unknown> | undefined) ?? config), ...spec };
  const key: Run['key'] = {};
  for (const k of KEYS[r.kind]) {
    const v = settings[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') key[k] = v;
  }
  const { spec: _s, config: _c, metric_value, metric_name, metric_baselines, ...row } = r;
  return {
    ...row,
    key,
    metric:
      metric_value !== null && metric_name
        ? { name: metric_name, value: metric_value, ...baselinesOf(metric_baselines) }
        : null,
  };
}

export function runRow(store: Store, id: string): Run | undefined {
  const r = store.runSummary(id);
  return r ? toRun(r) : undefined;
}

export function runRows(store: Store, filter: Parameters<Store['runSummaries']>[0]): Run[] {
  return store.runSummaries(filter).map(toRun);
}
