/**
 * The contract's operations on the app's services: one table, used by every transport (HTTP and
 * WebSocket in browser mode, Electron IPC in the app). Parameters are validated with the
 * contract's schemas before any service runs (unknown fields and wrong types are refused), results
 * are checked against it, and every failure becomes an ApiError with its cause.
 */
import { join } from 'node:path';
import { CamdError, describeIssue, describeUserFacing } from 'camd-studio/trainer';
import { ApiError, HTTP_STATUS, OPS, TOPICS, type OpName, type TopicName } from '../common/contract.js';
import type { App } from '../services/app.js';
import { NotFound } from '../base/errors.js';
import { previewMask } from '../services/preview.js';
import { clean, diskUse } from '../services/disk.js';
import type { BusEvent } from '../base/bus.js';
import type { z } from 'zod';

type Handlers = { [K in OpName]: (p: z.infer<(typeof OPS)[K]['params']>) => unknown };

export function handlers(app: App): Handlers {
  const table: Handlers = {
    'system.info': () => app.system.info(),
    'system.disk': () => diskUse(app.paths),
    'system.clean': (p) => {
      if (p.what === 'thumbs') app.images.stopAhead();
      return clean(app.paths, p.what, app.supervisor.active() ? 1 : 0);
    },
    'runs.estimate': (p) => app.runs.estimate(p.dataset, p.settings),
    'datasets.list': () => app.datasets.list(),
    'datasets.add': (p) => app.datasets.add(p.path, p.maxPixels, p.faces),
    'datasets.addSample': () => app.datasets.addSample(join(app.paths.root, 'sample-photos')),
    'datasets.rescan': (p) => app.datasets.rescan(p.id),
    'datasets.delete': (p) => app.datasets.delete(p.id),
    'datasets.stats': (p) => app.datasets.stats(p.id),
    'datasets.images': (p) => app.datasets.images(p),
    'datasets.image': (p) => app.datasets.image(p.id),
    'datasets.completePath': (p) => app.datasets.completePath(p.prefix),
    'faces.ofImage': (p) => app.datasets.facesOfImage(p.id),
    'faces.drop': (p) => app.datasets.dropFace(p.face, p.undo ?? false),
    'jobs.list': () => app.jobs.list(),
    'jobs.stop': (p) => app.jobs.stop(p.id),
    'preview.mask': (p) => previewMask(app.images, app.paths.db, p),
    'runs.create': (p) => app.runs.create(p),
    'runs.start': (p) => app.runs.start(p.id),
    'runs.pause': (p) => app.runs.pause(p.id),
    'runs.resume': (p) => app.runs.resume(p.id),
    'runs.stop': (p) => app.runs.stop(p.id),
    'runs.delete': async (p) => {
      const r = await app.runs.delete(p.id, p.files);
      app.metrics.drop(p.id);
      return r;
    },
    'runs.list': (p) => app.runs.list(p),
    'runs.get': (p) => app.runs.detail(p.id),
    'runs.importTorchrun': (p) => app.runs.importTorchrun(p.dir),
    'runs.clusterPack': (p) => app.runs.clusterPack(p.id, p.gpus ?? 8, p.copy ?? false, p.preset),
    'runs.see': (p) => app.runs.see(p.id, p.image, p.seed ?? 0),
    'runs.predictImage': (p) => app.runs.predictImage(p.id, p.image),
    'runs.log': (p) => app.runs.log(p.id, p.lines),
    'metrics.names': (p) => app.metrics.names(p.runs),
    'metrics.series': (p) => app.metrics.series(p),
    'evaluations.list': (p) => app.results.evaluations(p.run),
    'checkpoints.list': (p) => app.results.checkpoints(p.run),
    'checkpoints.export': (p) => app.results.export(p.id, p.format, p.out),
    'labels.schemas': (p) => app.labels.schemas(p.dataset),
    'labels.createSchema': (p) => app.labels.createSchema(p),
    'labels.deleteSchema': (p) => app.labels.deleteSchema(p.id),
    'labels.addField': ({ schema, ...e }) => app.labels.addField(schema, e),
    'labels.renameField': (p) => app.labels.renameField(p.id, p.name),
    'labels.deleteField': (p) => app.labels.deleteField(p.id),
    'labels.restoreField': (p) => app.labels.restoreField(p.id),
    'labels.setShortcut': (p) => app.labels.setShortcut(p.id, p.key),
    'labels.write': (p) => app.labels.write(p),
    'labels.undo': (p) => app.labels.undo(p.schema, p.labeller),
    'labels.redo': (p) => app.labels.redo(p.schema, p.labeller),
    'labels.undoState': (p) => app.labels.undoState(p.schema, p.labeller),
    'labels.of': (p) => app.labels.of(p.schema, p.images, p.run),
    'labels.queue': (p) => app.labels.queue(p),
    'labels.progress': (p) => app.labels.progress(p.schema),
    'labels.split': (p) => app.labels.split(p),
    'labels.export': (p) => app.labels.export(p),
    'labels.import': (p) => app.labels.import(p.dataset, p.format),
    'labels.predictionRuns': (p) => app.labels.predictionRuns(p.schema),
    'labels.predict': (p) => app.labels.predict(p.schema, p.run),
    'labels.curve': (p) => app.labels.curve(p.schema, p.checkpoint, p.labels),
    'geometry.get': (p) => app.geometry.get(p.image, p.task, p.scheme),
    'geometry.annotated': (p) => app.geometry.annotated(p.dataset, p.task, p.scheme),
    'geometry.start': (p) => app.geometry.start(p.image, p.scheme, p.run),
    'geometry.parsingStart': (p) => app.geometry.parsingStart(p.image, p.scheme, p.run),
    'geometry.save': (p) => app.geometry.save(p),
    'geometry.delete': (p) => app.geometry.delete(p.image, p.task, p.scheme),
    'geometry.poseOf': (p) => app.geometry.poseOf(p.points),
    'geometry.export': (p) => app.geometry.export(p),
  };
  // every operation is someone using the app: the thumbnails made ahead of need wait until the app
  // is quiet again (a chart being redrawn does not share the machine with them)
  const asked = table as Record<OpName, (p: unknown) => unknown>;
  for (const op of Object.keys(asked) as OpName[]) {
    const handle = asked[op];
    asked[op] = (p) => {
      app.images.queue.activity();
      return handle(p);
    };
  }
  return table;
}

/** A failure as the contract says it: message, cause, field. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiFailure) return e.error;
  if (e instanceof NotFound) return { message: e.message, cause: 'not-found' };
  if (e instanceof CamdError) return { message: e.message, cause: e.kind, ...(e.field ? { field: e.field } : {}) };
  const uf = describeUserFacing(e);
  if (uf) return { message: uf.message, cause: uf.kind, ...(uf.field ? { field: uf.field } : {}) };
  return { message: `internal error: ${e instanceof Error ? e.message : String(e)}`, cause: 'internal' };
}

export class ApiFailure extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
  }
  get status(): number {
    return HTTP_STATUS[this.error.cause];
  }
}

/**
 * A zod failure of a request as one line naming the field. Run settings are the trainer's spec
 * fields, so they are described as the trainer describes them (`--batch must be …, got 0`, field
 * `batch`), as if the CLI had been given them.
 */
function invalid(what: string, err: z.ZodError): ApiFailure {
  const i = err.issues[0]!;
  if (i.path[0] === 'settings') {
    const d = describeIssue(i, ['settings']);
    return new ApiFailure({ message: d.message, cause: d.kind, ...(d.field ? { field: d.field } : {}) });
  }
  const path = i.path.join('.');
  if (i.code === 'unrecognized_keys')
    return new ApiFailure({
      message: `${what}: unknown field(s) ${(i as { keys: string[] }).keys.map((k) => `'${k}'`).join(', ')}`,
      cause: 'usage',
    });
  return new ApiFailure({
    message: `${what}: ${path ? `${path}: ` : ''}${i.message}`,
    cause: 'usage',
    ...(path ? { field: path } : {}),
  });
}

export function isOp(name: string): name is OpName {
  return Object.hasOwn(OPS, name);
}

export function isTopic(name: string): name is TopicName {
  return Object.hasOwn(TOPICS, name);
}

/** Runs one operation: validated parameters in, a result the contract allows out; ApiFailure otherwise. */
export async function call(table: Handlers, op: string, params: unknown): Promise<unknown> {
  if (!isOp(op)) throw new ApiFailure({ message: `unknown operation '${op.slice(0, 64)}'`, cause: 'not-found' });
  const spec = OPS[op];
  const p = spec.params.safeParse(params ?? {}, { reportInput: true });
  if (!p.success) throw invalid(op, p.error);
  let result: unknown;
  try {
    result = await (table[op] as (x: unknown) => unknown)(p.data);
  } catch (e) {
    throw new ApiFailure(toApiError(e));
  }
  const r = spec.result.safeParse(result);
  if (!r.success)
    throw new ApiFailure({
      message: `internal error: ${op} answered outside the contract (${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message})`,
      cause: 'internal',
    });
  return r.data;
}

/** A subscription: validated parameters, and a listener on the bus that passes on what matches; returns its end. */
export function subscribe(app: App, topic: string, params: unknown, send: (data: unknown) => void): () => void {
  if (!isTopic(topic)) throw new ApiFailure({ message: `unknown topic '${topic.slice(0, 64)}'`, cause: 'not-found' });
  const p = TOPICS[topic].params.safeParse(params ?? {});
  if (!p.success) throw invalid(topic, p.error);
  switch (topic) {
    case 'run': {
      const id = (p.data as { id: string }).id;
      return app.bus.on('run', (e: BusEvent<'run'>) => e.run === id && send(e.event));
    }
    case 'metrics': {
      const { runs, names } = p.data as { runs: string[]; names?: string[] };
      return app.bus.on('metrics', (e) => {
        if (!runs.includes(e.run)) return;
        const values = names
          ? Object.fromEntries(Object.entries(e.values).filter(([k]) => names.includes(k)))
          : e.values;
        send({ ...e, values });
      });
    }
    case 'labels': {
      const schema = (p.data as { schema?: number }).schema;
      return app.bus.on('labels', (e) => (schema === undefined || e.schema === schema) && send(e));
    }
    default:
      return app.bus.on(topic, (e: unknown) => send(e));
  }
}
