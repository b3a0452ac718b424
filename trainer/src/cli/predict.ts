/** `camd predict` and `camd label-curve`: model assistance for labelling (finetune/predict.ts, probe/label-curve.ts). */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runLabelCurve, runPredict, type RunEvent } from '../api/index.js';
import { CliConsole, jsonRenderer, PHASE_LABEL } from './console.js';
import { stopOnSignals } from './signals.js';
import { CamdError } from '../util/errors.js';
import { reasonOf } from '../util/system-errors.js';
import { parseNumber } from './parse.js';
import { tensorFileFormat } from '../store/checkpoint.js';
import { LANDMARKS_FORMAT } from '../landmarks/landmark-file.js';
import { POSE_FILE_FORMAT } from '../pose/pose-run.js';
import { PARSING_FILE_FORMAT } from '../parsing/parsing-run.js';

export interface PredictCliOptions {
  checkpoint?: string;
  onnx?: string;
  writePts?: boolean;
  writePng?: boolean;
  data?: string;
  schema?: string;
  db?: string;
  runId?: string;
  backend?: string;
  json?: boolean;
}

export interface LabelCurveCliOptions {
  encoder?: string;
  data?: string;
  schema?: string;
  db?: string;
  labels?: string;
  seed?: string;
  backend?: string;
  json?: boolean;
}

function required(flag: string, v: string | undefined): string {
  if (!v) throw new CamdError('usage', `${flag} is required`);
  return v;
}

/** Progress bars by phase, warnings as lines. */
function progress(con: CliConsole): (e: RunEvent) => void {
  let phase = '';
  return (e) => {
    if (e.type === 'progress') {
      if (phase !== e.phase) {
        phase = e.phase;
        con.bar(e.total, 0, '{phase} [{bar}] {value}/{total}', { phase: PHASE_LABEL[e.phase] });
      }
      con.update(e.done);
    } else if (e.type === 'log') con.line(e.level === 'warn' ? `camd: warning: ${e.message}` : `camd: ${e.message}`);
  };
}

export async function predictCommand(o: PredictCliOptions): Promise<void> {
  if (o.onnx && o.checkpoint) throw new CamdError('usage', '--checkpoint and --onnx: give one model');
  let onnxKind: string | null = null;
  if (o.onnx) {
    const { readOnnxInfo } = await import('../onnx/run.js');
    const { readFileSync } = await import('node:fs');
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(resolve(o.onnx));
    } catch (e) {
      throw new CamdError('usage', `--onnx ${o.onnx}: ${reasonOf(e)}`);
    }
    onnxKind = readOnnxInfo(o.onnx, bytes).kind;
    if (onnxKind === 'landmarks' || onnxKind === 'pose' || onnxKind === 'parsing')
      return predictFacesCommand(resolve(o.onnx), onnxKind, o, true);
    if (onnxKind !== 'classifier')
      throw new CamdError(
        'usage',
        `--onnx ${o.onnx} is an exported ${onnxKind}: camd predict runs an exported classifier, face-alignment, head-pose or parsing model`,
      );
  }
  // a face-alignment or head-pose model reads the faces of images: no label schema, no store
  const ck = o.checkpoint ? resolve(o.checkpoint) : undefined;
  const format = ck ? tensorFileFormat(ck) : null;
  if (ck && (format === LANDMARKS_FORMAT || format === POSE_FILE_FORMAT || format === PARSING_FILE_FORMAT))
    return predictFacesCommand(
      ck,
      format === LANDMARKS_FORMAT ? 'landmarks' : format === POSE_FILE_FORMAT ? 'pose' : 'parsing',
      o,
      false,
    );
  if (o.writePts) throw new CamdError('usage', '--write-pts goes with a face-alignment model (landmarks.safetensors)');
  if (o.writePng) throw new CamdError('usage', '--write-png goes with a face-parsing model (parsing.safetensors)');
  const spec = {
    ...(o.onnx
      ? { onnx: resolve(o.onnx) }
      : { checkpoint: resolve(required('--checkpoint FILE (or --onnx FILE)', o.checkpoint)) }),
    data: resolve(required('--data DIR', o.data)),
    schema: required('--schema NAME|ID', o.schema),
    ...(o.db !== undefined ? { db: resolve(o.db) } : {}),
    ...(o.runId !== undefined ? { runId: o.runId } : {}),
    ...(o.backend !== undefined ? { backend: o.backend } : {}),
  };
  const con = new CliConsole();
  const stop = stopOnSignals('nothing is saved');
  try {
    const r = await runPredict(spec, o.json ? jsonRenderer() : progress(con), stop.signal);
    if (o.json)
      process.stdout.write(
        `${JSON.stringify({ type: 'done', kind: 'predict', images: r.images, run_id: r.runId, schema_id: r.schemaId, seconds: r.seconds })}\n`,
      );
    else
      con.final(
        stop.signal.aborted
          ? 'stopped: nothing saved'
          : `predictions of run ${r.runId} on ${r.images} face(s) saved for labelling (${r.seconds.toFixed(1)} s)`,
      );
  } finally {
    con.stop();
    stop.dispose();
  }
}

export async function labelCurveCommand(o: LabelCurveCliOptions): Promise<void> {
  if (o.labels !== undefined && o.labels !== 'human' && o.labels !== 'human+accepted')
    throw new CamdError('usage', `--labels must be human or human+accepted, got '${o.labels}'`);
  const seed = parseNumber('--seed', o.seed, 'int');
  const spec = {
    encoder: resolve(required('--encoder FILE', o.encoder)),
    data: resolve(required('--data DIR', o.data)),
    schema: required('--schema NAME|ID', o.schema),
    ...(o.db !== undefined ? { db: resolve(o.db) } : {}),
    ...(o.labels !== undefined ? { labels: o.labels as 'human' | 'human+accepted' } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(o.backend !== undefined ? { backend: o.backend } : {}),
  };
  const con = new CliConsole();
  const stop = stopOnSignals('no curve');
  try {
    const r = await runLabelCurve(spec, o.json ? jsonRenderer() : progress(con), stop.signal);
    if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else {
      con.stop();
      for (const p of r.points)
        process.stdout.write(`${String(p.labels).padStart(7)} training labels: ${r.metric} ${p.value.toFixed(3)}\n`);
      process.stdout.write(
        `${r.hint}\n(features: ${r.features.computed} computed, ${r.features.cached} cached; ${r.seconds.toFixed(1)} s)\n`,
      );
    }
  } finally {
    con.stop();
    stop.dispose();
  }
}

/**
 * `camd predict --checkpoint landmarks.safetensors|pose.safetensors|parsing.safetensors --data DIR|IMAGE`:
 * the model on every face of the images (tasks/predict-images.ts): points, yaw, pitch and roll, or
 * the image's label map.
 */
async function predictFacesCommand(
  checkpoint: string,
  task: 'landmarks' | 'pose' | 'parsing',
  o: PredictCliOptions,
  onnx: boolean,
): Promise<void> {
  const words = { landmarks: 'face-alignment', pose: 'head-pose', parsing: 'face-parsing' }[task];
  const writeFlag = { landmarks: ' and --write-pts', pose: '', parsing: ' and --write-png' }[task];
  if (o.schema !== undefined || o.runId !== undefined || o.db !== undefined)
    throw new CamdError(
      'usage',
      `a ${words} model takes --data (a folder or an image)${writeFlag}; --schema, --run-id and --db are for classifiers`,
    );
  if (o.writePts && task !== 'landmarks') throw new CamdError('usage', '--write-pts goes with a face-alignment model');
  if (o.writePng && task !== 'parsing') throw new CamdError('usage', '--write-png goes with a face-parsing model');
  const data = resolve(required('--data DIR|IMAGE', o.data));
  const { predictImages } = await import('../tasks/predict-images.js');
  // the model is made once predictImages has chosen the backend (its tensors live there)
  const writeUnder = o.writePng ? (statSync(data, { throwIfNoEntry: false })?.isFile() ? dirname(data) : data) : null;
  const make = onnx
    ? (await import('../onnx/face-models.js')).onnxFaceModel.bind(null, checkpoint, Boolean(o.writePts), writeUnder)
    : task === 'landmarks'
      ? (await import('../landmarks/landmark-predict.js')).landmarkFaceModel.bind(null, checkpoint, Boolean(o.writePts))
      : task === 'pose'
        ? (await import('../pose/pose-predict.js')).poseFaceModel.bind(null, checkpoint)
        : (await import('../parsing/parsing-predict.js')).parsingFaceModel.bind(null, checkpoint, writeUnder);
  const writes = Boolean(o.writePts || o.writePng);
  const con = new CliConsole();
  const stop = stopOnSignals(writes ? 'the files written so far are kept' : 'nothing is written');
  let done = 0;
  try {
    await predictImages(
      { data, ...(o.backend !== undefined ? { backend: o.backend } : {}) },
      make as never,
      (e: { type: string } & Record<string, unknown>) => {
        if (o.json) return void process.stdout.write(`${JSON.stringify(e)}\n`);
        if (e.type === 'start')
          con.bar(
            e['images'] as number,
            0,
            `${{ landmarks: 'points', pose: 'head pose', parsing: 'parsing' }[task]} [{bar}] {value}/{total}`,
          );
        else if (e.type === 'prediction') con.update(++done);
        else if (e.type === 'unread') con.line(`camd: ${e['image']} not read: ${e['reason']}`);
        else if (e.type === 'done')
          con.final(
            `${e['faces']} face(s) on ${e['images']} image(s) in ${(e['seconds'] as number).toFixed(1)} s${
              o.writePts
                ? '; each image with a face has its points in a .pts file beside it'
                : o.writePng
                  ? "; each image with a face has its label map under labels/ (LaPa's layout)"
                  : ' (--json gives what the model says of each face)'
            }`,
          );
      },
      stop.signal,
    );
  } finally {
    con.stop();
    stop.dispose();
  }
}
