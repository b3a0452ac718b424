/**
 * Labelling in the app: a dataset's label schemas and their fields, label writes (each one
 * committed before it is answered) with a labeller's undo and redo, the review queue, progress,
 * splits and exports — the trainer's labelling module (trainer/src/labels) over the app's store.
 * Model assistance runs as background jobs in their own process: `camd predict` (a fine-tuned
 * run's predictions on every face) and `camd label-curve` (the "labels needed" learning curve).
 * Every change is published on the `labels` topic with the faces it touched.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CamdError, importLabelFiles, isAbsolutePath, labels as L, type Store } from 'camd-studio/trainer';
import type { z } from 'zod';
import type {
  Job,
  LabelCurve,
  LabelExport,
  LabelProgress,
  LabelQueueQuery,
  LabelSchema,
  LabelWrite,
  NewLabelSchema,
  PredictionRun,
  QueueItem,
  SplitResult,
  UndoOutcome,
} from '../common/contract.js';
import { LabelCurve as LabelCurveSchema } from '../common/contract.js';
import type { EventBus } from '../base/bus.js';
import type { Jobs, Report } from './jobs.js';
import type { Datasets } from './datasets.js';
import { failureLine, type CamdCommand } from './camd-command.js';
import { NotFound } from '../base/errors.js';

type Schema = z.infer<typeof LabelSchema>;

/** A name for files and folders: letters, digits, dashes. */
const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40) || 'labels';
const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

export class Labels {
  constructor(
    private readonly store: Store,
    private readonly datasets: Datasets,
    private readonly jobs: Jobs,
    private readonly bus: EventBus,
    private readonly camd: CamdCommand,
    private readonly exportsDir: string,
  ) {}

  private readonly recounts = new Map<number, NodeJS.Timeout>();

  private get db() {
    return this.store.db;
  }

  schema(id: number): Schema {
    if (!this.store.hasLabelSchema(id)) throw new NotFound(`label schema ${id}`);
    return L.getSchema(this.db, id);
  }

  schemas(dataset: number): Schema[] {
    this.datasets.get(dataset);
    return L.listSchemas(this.db, dataset);
  }

  createSchema(p: z.infer<typeof NewLabelSchema>): Schema {
    this.datasets.get(p.dataset);
    const s = L.createSchema(this.db, {
      datasetId: p.dataset,
      name: p.name,
      template: p.template,
      task: p.task,
      names: p.names,
      extras: p.extras,
    });
    this.changed(s.id, [], null, 'schema');
    return s;
  }

  deleteSchema(id: number): { labels: number } {
    const s = this.schema(id);
    const active = this.store.unfinishedRunsOnSchema(s.dataset_id, { id, name: s.name });
    if (active > 0)
      throw new CamdError('busy', `the schema '${s.name}' is being trained on by ${active} run(s); stop them first`);
    const r = L.deleteSchema(this.db, id);
    this.changed(id, [], null, 'schema', s.dataset_id);
    return r;
  }

  /** Field edits: each says how many labels and faces it touches (renames and deletes keep the labels). */
  addField(
    schema: number,
    e: {
      kind: 'attribute' | 'class' | 'number' | 'point';
      name: string;
      min?: number;
      max?: number;
      unit?: string;
      shortcut?: string;
    },
  ) {
    this.schema(schema);
    const f = L.addField(this.db, schema, e);
    this.changed(schema, [], null, 'schema');
    return f;
  }

  renameField(id: number, name: string) {
    const r = L.renameField(this.db, id, name);
    this.changed(r.field.schema_id, [], null, 'schema');
    return r;
  }

  deleteField(id: number) {
    const r = L.deleteField(this.db, id);
    this.changed(r.field.schema_id, [], null, 'schema');
    return r;
  }

  restoreField(id: number) {
    const r = L.restoreField(this.db, id);
    this.changed(r.field.schema_id, [], null, 'schema');
    return r;
  }

  setShortcut(id: number, key: string | null) {
    const f = L.setShortcut(this.db, id, key);
    this.changed(f.schema_id, [], null, 'schema');
    return f;
  }

  /** One action (a key, a grid apply, an accepted prediction): committed, then answered. */
  write(p: z.infer<typeof LabelWrite>): { batch: number | null; changed: number; canUndo: boolean; canRedo: boolean } {
    this.schema(p.schema);
    const r = L.writeLabels(this.db, {
      schemaId: p.schema,
      imageIds: p.images,
      labeller: p.labeller,
      changes: p.changes,
      source: p.source,
      runId: p.run,
    });
    if (r.changed) this.changed(p.schema, p.images, p.labeller, 'write');
    return { ...r, ...L.undoState(this.db, p.schema, p.labeller.trim()) };
  }

  undo(schema: number, labeller: string): z.infer<typeof UndoOutcome> {
    this.schema(schema);
    const u = L.undoLabels(this.db, schema, labeller);
    if (u) this.changed(schema, u.images, labeller, 'undo');
    return { undone: u, ...L.undoState(this.db, schema, labeller.trim()) };
  }

  redo(schema: number, labeller: string): z.infer<typeof UndoOutcome> {
    this.schema(schema);
    const u = L.redoLabels(this.db, schema, labeller);
    if (u) this.changed(schema, u.images, labeller, 'redo');
    return { undone: u, ...L.undoState(this.db, schema, labeller.trim()) };
  }

  undoState(schema: number, labeller: string): { canUndo: boolean; canRedo: boolean } {
    this.schema(schema);
    return L.undoState(this.db, schema, labeller.trim());
  }

  /** Everyone's labels of these faces, and the chosen run's predictions on them. */
  of(schema: number, images: number[], run?: string) {
    this.schema(schema);
    return {
      annotations: L.annotationsOf(this.db, schema, images),
      predictions: run ? L.predictionsOf(this.db, run, schema, images) : [],
    };
  }

  queue(q: z.infer<typeof LabelQueueQuery>): { total: number; items: QueueItem[] } {
    this.schema(q.schema);
    return L.queue(this.db, {
      schemaId: q.schema,
      filter: q.filter,
      label: q.label,
      runId: q.run,
      order: q.order,
      threshold: q.threshold,
      labeller: q.labeller,
      offset: q.offset,
      limit: q.limit,
    });
  }

  progress(schema: number): LabelProgress {
    this.schema(schema);
    return L.progress(this.db, schema);
  }

  split(p: {
    schema: number;
    seed: number;
    val?: number;
    test?: number;
    reassign: boolean;
    labels: 'human' | 'human+accepted';
  }): z.infer<typeof SplitResult> {
    this.schema(p.schema);
    const r = L.makeSplit(this.db, p.schema, {
      seed: p.seed,
      val: p.val,
      test: p.test,
      reassign: p.reassign,
      use: p.labels,
    });
    this.store.setSplitSeed(p.schema, p.seed);
    this.changed(p.schema, [], null, 'schema');
    return r;
  }

  /** Writes the schema's labels as files: a new folder under exports/ (or the given absolute folder). */
  export(p: z.infer<typeof LabelExport>): { folder: string; files: string[]; rows: number; notes: string[] } {
    if (p.out !== undefined && !isAbsolutePath(p.out))
      throw new CamdError('input', `out must be an absolute folder path, got '${p.out}'`, 'out');
    const { name, files, rows, notes } = this.exportFiles(p);
    const folder = p.out ?? join(this.exportsDir, `${name}-${stamp()}`);
    try {
      for (const [rel, text] of files) {
        mkdirSync(join(folder, rel, '..'), { recursive: true });
        writeFileSync(join(folder, rel), text);
      }
    } catch (e) {
      throw new CamdError('io', `cannot write the export to ${folder}: ${(e as Error).message}`, 'out');
    }
    return { folder, files: files.map(([rel]) => join(folder, rel)), rows, notes };
  }

  /** The files of an export (relative path, text) and a name for them — written by `export`, or downloaded (app-protocol.ts). */
  exportFiles(p: Pick<z.infer<typeof LabelExport>, 'schema' | 'format' | 'labels'>): {
    name: string;
    files: [string, string][];
    rows: number;
    notes: string[];
  } {
    const s = this.schema(p.schema);
    const files: [string, string][] = [];
    let rows: number;
    let notes: string[];
    if (p.format === 'celeba') {
      const r = L.exportCelebA(this.db, s.id, p.labels);
      files.push(
        [join('Anno', 'list_attr_celeba.txt'), r.attributes],
        [join('Eval', 'list_eval_partition.txt'), r.partition],
      );
      ({ rows, notes } = r);
    } else {
      const r = p.format === 'csv' ? L.exportCsv(this.db, s.id, p.labels) : L.exportFullCsv(this.db, s.id);
      files.push([p.format === 'csv' ? 'labels.csv' : 'labels-full.csv', r.text]);
      ({ rows, notes } = r);
    }
    return { name: `${slug(s.name)}-${p.format}`, files, rows, notes };
  }

  /** A dataset's label file (CelebA, LFWA, RAF-DB, FERPlus, class folders, CSV) into a schema, labeller `import:<format>`. */
  async import(dataset: number, format: string): Promise<{ schema: Schema; images: number; notes: string[] }> {
    const d = this.datasets.get(dataset);
    const r = await importLabelFiles(this.store, format, d.root);
    const schema = this.schema(r.schemaId);
    this.changed(schema.id, [], null, 'schema');
    return { schema, images: r.images, notes: r.notes };
  }

  predictionRuns(schema: number): z.infer<typeof PredictionRun>[] {
    this.schema(schema);
    return L.predictionRuns(this.db, schema).map((r) => {
      const run = this.store.run(r.run_id);
      return { ...r, name: run?.name ?? null, status: run?.status ?? null };
    });
  }

  /** A fine-tuned run's predictions on every face of the schema's dataset (`camd predict`, a background job). */
  predict(schema: number, runId: string): Job {
    const s = this.schema(schema);
    const run = this.store.run(runId);
    if (!run) throw new NotFound(`run ${runId}`);
    if (run.kind !== 'finetune')
      throw new CamdError('input', `run ${runId} is a ${run.kind} run: predictions come from a fine-tuned run`, 'run');
    const task = (JSON.parse(run.config || '{}') as { task?: string }).task;
    if (task === 'landmarks' || task === 'pose' || task === 'parsing')
      throw new CamdError('input', `run ${runId} is a ${task} run: its model gives no labels of a schema`, 'run');
    const ck = this.store.fineTunedModelPath(runId);
    if (!ck) throw new CamdError('input', `run ${runId} has no fine-tuned model yet`, 'run');
    const root = this.datasets.get(s.dataset_id).root;
    return this.jobs.start('predict', s.dataset_id, async (report, signal) => {
      report('predicting', 0, 0);
      const lines = await this.command(
        [
          'predict',
          '--checkpoint',
          ck,
          '--data',
          root,
          '--schema',
          String(s.id),
          '--db',
          this.store.file,
          '--run-id',
          runId,
          '--json',
        ],
        report,
        signal,
      );
      const done = lines.find((l) => l['type'] === 'done') as { images?: number } | undefined;
      this.changed(s.id, [], null, 'predictions');
      return { message: `predictions on ${done?.images ?? '?'} face(s) saved`, result: done ?? null };
    });
  }

  /** The "labels needed" curve: quick linear probes on an encoder's cached features as labels grow (`camd label-curve`). */
  curve(schema: number, checkpoint: number, use: 'human' | 'human+accepted'): Job {
    const s = this.schema(schema);
    const ck = this.store.checkpoint(checkpoint);
    if (!ck) throw new NotFound(`checkpoint ${checkpoint}`);
    if (ck.kind !== 'full' && ck.kind !== 'encoder')
      throw new CamdError(
        'input',
        `checkpoint ${checkpoint} is a fine-tuned ${ck.kind} model, not a pre-trained encoder`,
        'checkpoint',
      );
    const root = this.datasets.get(s.dataset_id).root;
    return this.jobs.start('curve', s.dataset_id, async (report, signal) => {
      report('features', 0, 0);
      const lines = await this.command(
        [
          'label-curve',
          '--encoder',
          ck.path,
          '--data',
          root,
          '--schema',
          String(s.id),
          '--db',
          this.store.file,
          '--labels',
          use,
          '--json',
        ],
        report,
        signal,
      );
      const last = lines.at(-1);
      const curve = LabelCurveSchema.safeParse(last);
      if (!curve.success) throw new Error('camd label-curve answered something unexpected');
      const c: LabelCurve = curve.data;
      return { message: c.hint, result: c };
    });
  }

  /** Runs a camd command with `--json`: progress lines move the job's bar; the parsed lines are returned. */
  private async command(args: string[], report: Report, signal: AbortSignal): Promise<Record<string, unknown>[]> {
    const parsed: Record<string, unknown>[] = [];
    const onLine = (line: string) => {
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch {
        return;
      }
      if (!o || typeof o !== 'object') return;
      const e = o as Record<string, unknown>;
      if (
        e['type'] === 'progress' &&
        typeof e['phase'] === 'string' &&
        typeof e['done'] === 'number' &&
        typeof e['total'] === 'number'
      )
        report(e['phase'], e['done'], e['total']);
      else parsed.push(e);
    };
    const r = await this.camd(args, { timeoutMs: 3_600_000, maxBuffer: 4 << 20, onLine, signal });
    if (signal.aborted) return parsed;
    if (r.code !== 0) throw new Error(failureLine(r));
    return parsed;
  }

  private changed(
    schema: number,
    images: readonly number[],
    labeller: string | null,
    what: 'write' | 'undo' | 'redo' | 'schema' | 'predictions',
    dataset?: number,
  ): void {
    this.bus.emit('labels', { schema, images: [...images], labeller, what });
    if (what === 'predictions') return;
    const id = dataset ?? this.store.labelSchemaDataset(schema);
    if (id !== undefined) this.recount(id);
  }

  /** The dataset's labelled count, told to the list at most once a second while labels are being made. */
  private recount(dataset: number): void {
    if (this.recounts.has(dataset)) return;
    const t = setTimeout(() => {
      this.recounts.delete(dataset);
      if (this.store.isOpen()) this.tellCount(dataset);
    }, 1000);
    t.unref();
    this.recounts.set(dataset, t);
  }

  /** Sends the pending counts now (the app is closing). */
  flush(): void {
    for (const [dataset, t] of this.recounts) {
      clearTimeout(t);
      this.recounts.delete(dataset);
      this.tellCount(dataset);
    }
  }

  private tellCount(dataset: number): void {
    try {
      this.bus.emit('datasets', { id: dataset, deleted: false, dataset: this.datasets.get(dataset) });
    } catch {
      // the dataset was deleted meanwhile: its own event said so
    }
  }
}
