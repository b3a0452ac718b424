/**
 * `camd eval` of a face-geometry model (landmarks.safetensors, pose.safetensors, parsing.safetensors)
 * as an `eval` run of the store, as a classifier's evaluation is (finetune/evaluate.ts): the task
 * read from the model file, the dataset's test split chosen as training chose it (the dataset's own
 * test set, or the seeded share TEST_FRACTION held out), the model scored by the very code the
 * training loop scores each epoch with (each task's *-eval.ts), and the result recorded as the run's
 * selected evaluation and emitted as training emits its evaluations (`eval` with `values`). The
 * task's part (GeometryEvaluator) comes from the caller (api/index.ts), as runFinetune's adapter does.
 */
import { randomUUID } from 'node:crypto';
import { backendDetail, selectBackend } from '../backends/ladder.js';
import type { EventSink } from '../protocol/events.js';
import { GEOMETRY_FORMATS, type GeometryEvalSpec, type GeometryTask } from '../protocol/geometry-specs.js';
import { Store } from '../store/store.js';
import { tensorFileFormat, tensorFileHeader } from '../store/checkpoint.js';
import { UserError } from '../util/errors.js';
import { defaultDbPath } from '../util/paths.js';
import { currentProcess } from '../util/process-identity.js';
import type { GeometryMetric } from './task-job.js';

/** The figures of one evaluation, as a task adapter gives them (TaskAdapter.figures). */
export interface Figures {
  value: number;
  n: number;
  values: Record<string, number>;
  detail: Record<string, unknown>;
}

/** A model loaded and its test split read, ready to be scored; `dispose` frees the model. */
export interface GeometryEvaluation {
  metric: GeometryMetric;
  /** Faces (images) in the test split. */
  test: number;
  /** Which split, in words. */
  split: string;
  /** What the run's record says beside the spec (scheme, classes, …). */
  config: Record<string, unknown>;
  /** Cuts out the test faces (progress) and scores them; null when `signal` stopped it first. */
  evaluate(progress: (done: number, total: number) => void, signal: AbortSignal): Promise<Figures | null>;
  dispose(): void;
}

/** What an evaluation needs: the spec, with the seed settled. */
export type EvalInput = GeometryEvalSpec & { seed: number };

/** A task's evaluation (landmarks/landmark-eval.ts, pose/pose-eval.ts, parsing/parsing-eval.ts). */
export interface GeometryEvaluator {
  /** What a model file's state (its header's) and `--format` disagree on (the point or class scheme), in words after the file's name; null when they fit. */
  schemeProblem(spec: GeometryEvalSpec, state: unknown): string | null;
  /** The model loaded and its test split read; `detecting`: BIWI's frames searched for faces. */
  evaluation(spec: EvalInput, detecting: (done: number, total: number) => void): Promise<GeometryEvaluation>;
}

const FILE_TASK: Record<string, GeometryTask> = {
  'camd-landmarks': 'landmarks',
  'camd-pose': 'pose',
  'camd-parsing': 'parsing',
};
const TASK_WORDS: Record<GeometryTask, string> = {
  landmarks: 'face-alignment (landmarks)',
  pose: 'head-pose (pose)',
  parsing: 'face-parsing (parsing)',
};

/** The geometry task a model file was fine-tuned for, or null for any other file. */
export function geometryTaskOfFile(file: string): GeometryTask | null {
  const f = tensorFileFormat(file);
  return f !== null ? (FILE_TASK[f] ?? null) : null;
}

/** Refuses a task, format or test set that does not fit the model file, in words (its header only is read). */
export function checkEvalSpec(spec: GeometryEvalSpec, evaluator: GeometryEvaluator): void {
  const fileTask = geometryTaskOfFile(spec.checkpoint);
  if (fileTask === null)
    throw new UserError(
      `${spec.checkpoint} is not a face-geometry model (landmarks.safetensors, pose.safetensors or parsing.safetensors of camd finetune)`,
      2,
      'checkpoint',
    );
  if (fileTask !== spec.task)
    throw new UserError(
      `${spec.checkpoint} is a ${TASK_WORDS[fileTask]} model, not --task ${spec.task}: leave --task out or give --task ${fileTask}`,
      2,
      'task',
    );
  if (!GEOMETRY_FORMATS[spec.task].includes(spec.format))
    throw new UserError(
      `--task ${spec.task} reads --format ${GEOMETRY_FORMATS[spec.task].join(', ')} (given: ${spec.format})`,
      2,
      'format',
    );
  const problem = evaluator.schemeProblem(spec, tensorFileHeader(spec.checkpoint)?.state ?? null);
  if (problem) throw new UserError(`${spec.checkpoint} ${problem}`, 2, 'format');
  if (spec.task === 'parsing' && spec.testData !== undefined)
    throw new UserError(
      '--task parsing does not use --test-data: LaPa and CelebAMask-HQ carry their own test split',
      2,
      'testData',
    );
}

export interface GeometryEvalResult {
  runId: string;
  outcome: 'completed' | 'stopped';
  figures: Figures | null;
}

/** The seed of the run that wrote `file`, when the store knows it and it trained on `data`. */
function trainingSeed(store: Store, file: string, data: string): number | null {
  const id = store.runOfCheckpointFile(file);
  const row = id ? store.run(id) : undefined;
  if (!row) return null;
  try {
    const c = JSON.parse(row.config) as { seed?: unknown; data?: unknown };
    return typeof c.seed === 'number' && c.data === data ? c.seed : null;
  } catch {
    return null;
  }
}

export async function evaluateGeometry(
  spec: GeometryEvalSpec,
  evaluator: GeometryEvaluator,
  emit: EventSink,
  signal: AbortSignal,
): Promise<GeometryEvalResult> {
  checkEvalSpec(spec, evaluator);
  let sel;
  try {
    sel = await selectBackend(spec.backend ?? 'auto');
  } catch (e) {
    throw new UserError((e as Error).message, 2, 'backend');
  }
  const dbPath = spec.db ?? defaultDbPath();
  const store = new Store(dbPath);
  try {
    store.reapDeadRuns();
    const t0 = performance.now();
    // the split training held out: its seed when the store knows the run that wrote the model
    const seed = spec.seed ?? trainingSeed(store, spec.checkpoint, spec.data) ?? 0;
    const ev = await evaluator.evaluation({ ...spec, seed }, (done, total) =>
      emit({ type: 'progress', phase: 'decoding', done, total }),
    );
    try {
      const runId = spec.runId ?? randomUUID();
      const datasetId = store.datasetByRoot(spec.data)?.id ?? null;
      const config = {
        checkpoint: spec.checkpoint,
        task: spec.task,
        format: spec.format,
        data: spec.data,
        test_data: spec.testData ?? null,
        seed,
        split: ev.split,
        ...ev.config,
      };
      if (store.run(runId)) store.updateRun(runId, { config: JSON.stringify(config) });
      else
        store.createRun({
          id: runId,
          kind: 'eval',
          datasetId,
          parentRunId: store.runOfCheckpointFile(spec.checkpoint),
          config,
          seed,
        });
      store.claimRun(runId, currentProcess(), {
        backend: sel.backend,
        backend_detail: backendDetail(sel),
        started_at: new Date().toISOString(),
      });
      emit({
        type: 'start',
        kind: 'eval',
        run_id: runId,
        out_dir: null,
        db: dbPath,
        backend: sel.backend,
        checkpoint: spec.checkpoint,
        task: spec.task,
        format: spec.format,
        val: 0,
        test: ev.test,
        split: ev.split,
      });
      let f: Figures | null;
      try {
        f = await ev.evaluate((done, total) => emit({ type: 'progress', phase: 'decoding', done, total }), signal);
      } catch (e) {
        store.updateRun(runId, {
          status: 'failed',
          error: (e as Error).message,
          finished_at: new Date().toISOString(),
        });
        throw e;
      }
      if (f) {
        store.addEvaluation({
          run_id: runId,
          dataset_id: datasetId,
          epoch: null,
          split: 'test',
          metric: ev.metric,
          value: f.value,
          detail: { metric: ev.metric, n: f.n, split: ev.split, ...f.values, ...f.detail },
          selected: true,
        });
        emit({ type: 'eval', epoch: null, split: 'test', metric: ev.metric, value: f.value, n: f.n, values: f.values });
      }
      store.updateRun(runId, { status: f ? 'done' : 'stopped', finished_at: new Date().toISOString() });
      emit({
        type: 'done',
        kind: 'eval',
        reason: f ? 'completed' : 'interrupted',
        seconds: (performance.now() - t0) / 1000,
        results: f ? { test: { metric: ev.metric, value: f.value, n: f.n } } : {},
      });
      return { runId, outcome: f ? 'completed' : 'stopped', figures: f };
    } finally {
      ev.dispose();
    }
  } finally {
    store.close();
  }
}
