/**
 * `camd import-run DIR`: a run of the released training scripts (`torchrun … CAMD_pretrain.py` or
 * `CAMD_finetune.py`, their `--output_dir`) into the store, beside local runs: `log.txt` (one JSON
 * object per epoch: `train_*`, for fine-tuning `test_*`, `epoch`) becomes the run's metrics — their
 * step is the epoch (1-based), the released scripts log nothing finer — and, for fine-tuning, its
 * per-epoch test accuracies become evaluations (percentages → fractions, as ours). The `args` the
 * scripts save in their newest `checkpoint-*.pth` (read without its tensors) become the run's
 * configuration, with `source: "torchrun"`. Importing the folder again updates the same run.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Store } from '../store/store.js';
import { UserError } from '../util/errors.js';
import { readTorchFile } from './torch-file.js';
import { plainArgs } from './camd-released.js';

export interface ImportedRun {
  runId: string;
  kind: 'pretrain' | 'finetune';
  epochs: number;
  metrics: string[];
  checkpoints: string[];
  args: Record<string, unknown> | null;
  /** The checkpoint the args were read from (the newest that has them). */
  argsFrom: string | null;
  /** Checkpoints that could not be read, and why: a run's settings are never dropped without a word. */
  notes: string[];
  updated: boolean;
}

/** The released names → ours where there is one (so curves of both kinds of run line up in Compare). */
const RENAME: Record<string, string> = { train_loss: 'loss', train_lr: 'lr' };
const PERCENT = /^test_acc\d*$/;

/** One row of log.txt: one epoch's numbers, `epoch` 0-based as the released scripts count. */
type LogRow = Record<string, unknown>;

/** The run's folder (its real path), its log.txt and the log's rows, each refused in the file's words if unreadable. */
function readLog(dirIn: string): { dir: string; logFile: string; rows: LogRow[] } {
  if (!existsSync(dirIn) || !statSync(dirIn).isDirectory())
    throw new UserError(`the folder ${dirIn} does not exist`, 2, 'dir');
  const dir = realpathSync(dirIn);
  const logFile = join(dir, 'log.txt');
  if (!existsSync(logFile))
    throw new UserError(
      `${dir} has no log.txt: not the --output_dir of CAMD_pretrain.py or CAMD_finetune.py`,
      2,
      'dir',
    );
  const rows: LogRow[] = [];
  readFileSync(logFile, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        throw new UserError(`${logFile} line ${i + 1} is not JSON: ${line.slice(0, 80)}`, 2, 'dir');
      }
      if (!v || typeof v !== 'object' || !Number.isInteger((v as { epoch?: unknown }).epoch))
        throw new UserError(`${logFile} line ${i + 1} has no integer "epoch"`, 2, 'dir');
      rows.push(v as LogRow);
    });
  if (rows.length === 0) throw new UserError(`${logFile} is empty: the run has not finished an epoch`, 2, 'dir');
  return { dir, logFile, rows };
}

/** The run's checkpoints, newest first, and its settings from the newest that has them. */
async function readArgs(
  dir: string,
): Promise<{ checkpoints: string[]; args: Record<string, unknown> | null; argsFrom: string | null; notes: string[] }> {
  const checkpoints = readdirSync(dir)
    .filter((f) => /^checkpoint-(\d+|latest)\.pth$/.test(f))
    .sort((a, b) => (parseInt(b.slice(11), 10) || -1) - (parseInt(a.slice(11), 10) || -1));
  let args: Record<string, unknown> | null = null;
  let argsFrom: string | null = null;
  const notes: string[] = [];
  for (const ck of checkpoints) {
    try {
      const f = await readTorchFile(join(dir, ck), { pickleOnly: true });
      args = plainArgs(f.root instanceof Map ? f.root.get('args') : undefined);
      if (args) {
        argsFrom = join(dir, ck);
        break;
      }
      notes.push(`${ck} has no args`);
    } catch (e) {
      // said, and the next (older) checkpoint may have them
      notes.push(`${ck} could not be read: ${(e as Error).message.replace(join(dir, ck), ck)}`);
    }
  }
  if (!args)
    notes.push(
      checkpoints.length
        ? "no checkpoint gave the run's settings (args): the run is imported with its log only"
        : 'the folder has no checkpoint-*.pth: the run is imported with its log only, without its settings',
    );
  return { checkpoints, args, argsFrom, notes };
}

type MetricPoint = { step: number; epoch: number; name: string; value: number; t: null };

/** The log's numbers as metrics at their epoch (1-based), under our names, percentages as fractions. */
function metricPoints(rows: LogRow[]): { points: MetricPoint[]; names: Set<string> } {
  const points: MetricPoint[] = [];
  const names = new Set<string>();
  for (const r of rows) {
    const epoch = (r['epoch'] as number) + 1;
    for (const [k, v] of Object.entries(r)) {
      if (k === 'epoch' || k === 'n_parameters' || typeof v !== 'number' || !Number.isFinite(v)) continue;
      const name = RENAME[k] ?? k;
      names.add(name);
      points.push({ step: epoch, epoch, name, value: PERCENT.test(k) ? v / 100 : v, t: null });
    }
  }
  return { points, names };
}

/** A fine-tuning run's test accuracy each epoch as evaluations (fractions), the best one selected. */
function addEvaluations(store: Store, runId: string, rows: LogRow[]): void {
  const best = Math.max(...rows.map((r) => Number(r['test_acc1'] ?? r['test_acc'] ?? -Infinity)));
  for (const r of rows) {
    const acc = r['test_acc1'] ?? r['test_acc'];
    if (typeof acc !== 'number') continue;
    store.addEvaluation({
      run_id: runId,
      dataset_id: null,
      epoch: (r['epoch'] as number) + 1,
      split: 'test',
      metric: 'test_acc1' in r ? 'top1' : 'mean_acc',
      value: acc / 100,
      selected: acc === best,
    });
  }
}

export async function importRun(store: Store, dirIn: string, o: { name?: string } = {}): Promise<ImportedRun> {
  const { dir, logFile, rows } = readLog(dirIn);
  const kind = rows.some((r) => Object.keys(r).some((k) => k.startsWith('test_'))) ? 'finetune' : 'pretrain';
  const { checkpoints, args, argsFrom, notes } = await readArgs(dir);
  const { points, names } = metricPoints(rows);
  const epochs = Math.max(...rows.map((r) => (r['epoch'] as number) + 1));
  const planned = typeof args?.['epochs'] === 'number' ? (args['epochs'] as number) : null;
  const existing = store.db.prepare('SELECT id FROM runs WHERE out_dir = ?').pluck().get(dir) as string | undefined;
  const runId = existing ?? randomUUID();
  const config = { source: 'torchrun', log: logFile, checkpoints: checkpoints.map((c) => join(dir, c)), args };
  const seed = typeof args?.['seed'] === 'number' ? (args['seed'] as number) : 0;
  store.db.transaction(() => {
    if (existing) {
      store.db.prepare('DELETE FROM metrics WHERE run_id = ?').run(runId);
      store.db.prepare('DELETE FROM evaluations WHERE run_id = ?').run(runId);
      store.updateRun(runId, { config: JSON.stringify(config) } as never);
    } else
      store.createRun({
        id: runId,
        kind,
        name: o.name ?? `${basename(dir)} (torchrun)`,
        config,
        seed,
        outDir: dir,
        totalSteps: planned,
      });
    store.addMetrics(runId, points);
    if (kind === 'finetune') addEvaluations(store, runId, rows);
    store.updateRun(runId, {
      status: planned !== null && epochs < planned ? 'stopped' : 'done',
      last_step: epochs,
      total_steps: planned ?? epochs,
      finished_at: new Date(statSync(logFile).mtimeMs).toISOString(),
    });
  })();
  return {
    runId,
    kind,
    epochs,
    metrics: [...names].sort(),
    checkpoints: config.checkpoints,
    args,
    argsFrom,
    notes,
    updated: existing !== undefined,
  };
}
