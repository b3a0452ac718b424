/**
 * The trainer as a library: what the `camd` CLI, the `camd worker` process and the app's services
 * call. Every operation takes a spec (validated here with zod; paths absolute), reports through
 * one event union, honours an AbortSignal (stop = finish the step, write what must be written,
 * `done`), and fails with a typed CamdError (cause: usage, input, busy, io, disk-full, diverged)
 * — never an exit code, never a write to the terminal.
 *
 *   runPretrain(spec, sink, signal)   pre-train (or resume) a CAMD encoder
 *   runFinetune(spec, sink, signal)   fine-tune or linear-probe, evaluating every epoch
 *   runEval(spec, sink, signal)       a fine-tuned classifier alone on val/test, or a face-geometry model on its test split
 *   scan(spec, sink, signal)          index a folder of images into the store
 *   scanFaces(spec, sink, signal)     …and find, align and crop its faces into a derived dataset
 *   maskPreview(spec)                 the two views and block mask the trainer would make
 *   runProbe(spec, sink)              k-NN and linear-probe accuracy of encoders on a labelled folder
 *   seeFace / runSee(spec, sink)      what the model sees: per-patch prediction quality, attention, a 2-D map
 *   labels.*(store.db, …)             labelling: schemas, writes, undo/redo, queue, progress, splits, exports
 */
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { scanDataset, type ScanReport } from '../data/scan.js';
import { maskPreview as makePreview, type MaskPreview } from '../data/preview.js';
import { Store } from '../store/store.js';
import { dirname, join } from 'node:path';
import { cacheDirFor, defaultDbPath } from '../util/paths.js';
import { CamdError } from '../util/errors.js';
import { asInputError } from '../util/system-errors.js';
import type { EventSink } from '../protocol/events.js';
import {
  EvalSpec,
  FaceScanSpec,
  FinetuneSpec,
  MaskPreviewSpec,
  PretrainSpec,
  ScanSpec,
  parseSpec,
} from '../protocol/specs.js';
import { GeometryEvalSpec, geometryTaskOf, LandmarkSpec, ParsingSpec, PoseSpec } from '../protocol/geometry-specs.js';
export { landmarkDataOf } from '../geometry/landmark-formats.js';
export { poseTestDataOf } from '../pose/pose-test-folder.js';
import type { FaceReport } from '../faces/ingest.js';
import type { FarMetrics, FerMetrics } from '../finetune/metrics.js';

export * from './protocol.js';
/** What an accuracy is worth beside its majority-class and chance baselines, in words. */
export { baselineWords } from '../finetune/metrics.js';
/** Labelling over the store: schemas, label writes with undo/redo, queue, progress, splits, import/export, predictions. */
export * as labels from '../labels/index.js';
export * as geometryLabels from '../annotation/geometry-labels.js';
export {
  exportGeometry,
  LANDMARK_EXPORT_FORMATS,
  POSE_EXPORT_FORMATS,
  type ExportReport as GeometryExportReport,
} from '../annotation/export-landmarks.js';
export { startFromPrediction, MESH_SCHEMES, type LandmarkStart } from '../annotation/landmark-start.js';
export { poseFromLandmarks } from '../annotation/pose-from-landmarks.js';
export { LANDMARK_SCHEMES, SCHEMES as LANDMARK_SCHEME_INFO } from '../geometry/landmark-schemes.js';
export { CLASS_MAPS } from '../parsing/parsing-classes.js';

/**
 * Imports a label file of a dataset folder (celeba, lfwa, rafdb, ferplus, folders, csv) into the
 * store: the folder indexed, the labels recorded as a schema of the dataset with labeller
 * `import:<format>` and the files' splits. Returns the schema's id and how many faces got labels.
 */
export async function importLabelFiles(
  store: Store,
  format: string,
  data: string,
  seed = 0,
): Promise<{ schemaId: number; images: number; notes: string[] }> {
  if (format === 'store') throw new CamdError('input', "'store' labels are already in the store", 'format');
  const { readLabels } = await import('../finetune/dataset.js');
  const ds = await readLabels(store, format, data, { seed, maxPixels: DEFAULT_MAX_PIXELS }).catch((e: unknown) => {
    throw e instanceof CamdError ? e : new CamdError('input', (e as Error).message, 'format');
  });
  return { schemaId: ds.schemaId, images: ds.items.length, notes: ds.notes };
}
export { describeUserFacing } from '../util/system-errors.js';
export { nextTurn } from '../util/async.js';
export type { ScanReport } from '../data/scan.js';
export type { MaskPreview, PreviewImage } from '../data/preview.js';

/** How a training run ended (a failure is a thrown CamdError instead). */
export interface RunResult {
  outcome: 'completed' | 'stopped' | 'diverged';
  runId: string;
  outDir: string;
}

export interface EvalRunResult {
  runId: string;
  outcome: 'completed' | 'stopped';
  /** By split: a classifier's metrics, or a face-geometry model's figures (its test split only). */
  results: Record<string, FarMetrics | FerMetrics | import('../tasks/task-eval.js').Figures>;
}

const NEVER = new AbortController().signal;
const ignore: EventSink = () => undefined;

export async function runPretrain(
  spec: unknown,
  sink: EventSink = ignore,
  signal: AbortSignal = NEVER,
): Promise<RunResult> {
  const s = parseSpec(PretrainSpec, spec);
  const { pretrain } = await import('../train/pretrain.js'); // TensorFlow.js loads with the first run, not with the API
  return pretrain(s, sink, signal);
}

export async function runFinetune(
  spec: unknown,
  sink: EventSink = ignore,
  signal: AbortSignal = NEVER,
): Promise<RunResult> {
  const geometry = geometryTaskOf(spec);
  if (geometry) {
    const { runTaskJob } = await import('../tasks/task-job.js');
    const t =
      geometry === 'landmarks'
        ? (await import('../landmarks/landmark-task.js')).landmarkTask(parseSpec(LandmarkSpec, spec))
        : geometry === 'pose'
          ? (await import('../pose/pose-task.js')).poseTask(parseSpec(PoseSpec, spec))
          : (await import('../parsing/parsing-task.js')).parsingTask(parseSpec(ParsingSpec, spec));
    return runTaskJob(t.settings, t.adapter as never, sink, signal);
  }
  const s = parseSpec(FinetuneSpec, spec);
  const { finetune } = await import('../finetune/run.js');
  return finetune(s, sink, signal);
}

export async function runEval(
  spec: unknown,
  sink: EventSink = ignore,
  signal: AbortSignal = NEVER,
): Promise<EvalRunResult> {
  const geometry = geometryTaskOf(spec);
  if (geometry) {
    // a face-geometry model (landmarks, pose, parsing): its test split, scored as its training scored it
    const { evaluateGeometry } = await import('../tasks/task-eval.js');
    const evaluator =
      geometry === 'landmarks'
        ? (await import('../landmarks/landmark-eval.js')).landmarkEvaluator
        : geometry === 'pose'
          ? (await import('../pose/pose-eval.js')).poseEvaluator
          : (await import('../parsing/parsing-eval.js')).parsingEvaluator;
    const r = await evaluateGeometry(parseSpec(GeometryEvalSpec, spec), evaluator, sink, signal);
    return { runId: r.runId, outcome: r.outcome, results: r.figures ? { test: r.figures } : {} };
  }
  const s = parseSpec(EvalSpec, spec);
  const { evaluateCheckpoint } = await import('../finetune/evaluate.js');
  return evaluateCheckpoint(s, sink, signal);
}

/** A fine-tuned classifier's predictions on every face of a dataset of the store, under its run (finetune/predict.ts); spec.onnx: an exported file's, in ONNX Runtime. */
export async function runPredict(
  spec: import('../finetune/predict.js').PredictSpec,
  sink: EventSink = ignore,
  signal: AbortSignal = NEVER,
): Promise<import('../finetune/predict.js').PredictResult> {
  const { runPredict: run } = await import('../finetune/predict.js');
  // an exported ONNX file runs in ONNX Runtime (onnx/predict.ts), our file on a backend
  const open = spec.onnx ? (await import('../onnx/predict.js')).openOnnxClassifier : undefined;
  return run(spec, sink, signal, open);
}

/** The "labels needed" learning curve of a schema on an encoder's features (probe/label-curve.ts). */
export async function runLabelCurve(
  spec: import('../probe/label-curve.js').LabelCurveSpec,
  sink: EventSink = ignore,
  signal: AbortSignal = NEVER,
): Promise<import('../probe/label-curve.js').LabelCurveResult> {
  const { runLabelCurve: run } = await import('../probe/label-curve.js');
  return run(spec, sink, signal);
}

/** Indexes a folder (progress as `scanning` events); a stop records what was inspected so far (`complete: false`). */
export async function scan(
  spec: unknown,
  sink: EventSink = ignore,
  signal: AbortSignal = NEVER,
): Promise<ScanReport & { db: string }> {
  const s = parseSpec(ScanSpec, spec);
  const store = new Store(s.db ?? defaultDbPath());
  try {
    store.reapDeadRuns(); // any command that opens the store tells dead runs from live ones
    const r = await scanDataset(store, s.dir, {
      maxPixels: s.maxPixels ?? DEFAULT_MAX_PIXELS,
      signal,
      onProgress: (done, total) => sink({ type: 'progress', phase: 'scanning', done, total }),
    }).catch((e: unknown) => {
      throw asInputError(e, 'dir');
    });
    return { ...r, db: store.file };
  } finally {
    store.close();
  }
}

export async function scanFaces(
  spec: unknown,
  sink: EventSink = ignore,
  signal: AbortSignal = NEVER,
): Promise<FaceReport & { db: string }> {
  const s = parseSpec(FaceScanSpec, spec);
  const { ingestFaces } = await import('../faces/ingest.js');
  const store = new Store(s.db ?? defaultDbPath());
  try {
    store.reapDeadRuns();
    const r = await ingestFaces(store, s.dir, {
      ...(s.maxPixels !== undefined ? { maxPixels: s.maxPixels } : {}),
      ...(s.out !== undefined ? { out: s.out } : {}),
      ...(s.minScore !== undefined ? { minScore: s.minScore } : {}),
      ...(s.minFace !== undefined ? { minFace: s.minFace } : {}),
      ...(s.margin !== undefined ? { margin: s.margin } : {}),
      ...(s.size !== undefined ? { size: s.size } : {}),
      ...(s.dedupe !== undefined ? { dedupe: s.dedupe } : {}),
      ...(s.tiles !== undefined ? { tiles: s.tiles } : {}),
      signal,
      onProgress: (phase, done, total) =>
        sink({ type: 'progress', phase: phase === 'indexing' ? 'scanning' : phase, done, total }),
    }).catch((e: unknown) => {
      throw asInputError(e, 'dir');
    });
    return { ...r, db: store.file };
  } finally {
    store.close();
  }
}

/**
 * The sample faces (faces/sample.ts): the face-model package's photographs copied into
 * `sample-photos/` beside the store and their faces found and cropped (once; later calls reuse the
 * crops). Returns the face-finding report; its `derived.root` is the folder to pre-train on.
 */
export { copySamplePhotos, SAMPLE_FACE_SETTINGS, sampleSource } from '../faces/sample.js';

export async function sampleFaces(
  spec: { db?: string },
  sink: EventSink = ignore,
  signal: AbortSignal = NEVER,
): Promise<FaceReport & { db: string; photos_from: string }> {
  const { copySamplePhotos, sampleSource, SAMPLE_FACE_SETTINGS } = await import('../faces/sample.js');
  const db = spec.db ?? defaultDbPath();
  const dir = copySamplePhotos(join(dirname(db), 'sample-photos'));
  const r = await scanFaces({ dir, db, ...SAMPLE_FACE_SETTINGS }, sink, signal);
  return { ...r, photos_from: sampleSource() };
}

export async function maskPreview(spec: unknown): Promise<MaskPreview> {
  const s = parseSpec(MaskPreviewSpec, spec);
  return makePreview({ ...s, cacheDir: cacheDirFor(s.db ?? defaultDbPath()) });
}

// ---- for the app's services: the store (one schema for the CLI and the app), paths, decoding ----
export {
  Store,
  RUN_STATUSES,
  type RunRow,
  type RunStatus,
  type DatasetRow,
  type ImageRow,
  type CheckpointRow,
  type MetricPoint,
} from '../store/store.js';
export { camdHome, defaultDbPath, cacheDirFor } from '../util/paths.js';
export { decodeRgb, IMAGE_EXTENSIONS, ImageError, type RgbImage } from '../data/image-io.js';
export { processState, currentProcess } from '../util/process-identity.js';
export { writeFileAtomic } from '../util/atomic-file.js';
export { makeFolder, reasonOf } from '../util/system-errors.js';
export { findsImages, scanDataset, type BadFile } from '../data/scan.js';
export { dropFace } from '../faces/ingest.js';
export { runProbe, type ProbeSpec, type ProbeResult, type ProbeRow } from '../probe/run.js';
export { seeFace, heatPng, type FaceView } from '../see/see.js';
export { runSee, type SeeSpec, type SeeResult } from '../see/see-run.js';
export { pca2, projectionPng } from '../see/projection.js';
export { alignmentFor } from '../faces/align.js';
export { FACES_DEFAULTS } from '../protocol/defaults.js';
export { facesOfSourceImage, faceOfCrop, faceById, recordDrop, type FaceRow } from '../faces/face-store.js';
export { saveParsingLabel, parsingMaskCheck } from '../annotation/parsing-mask.js';
export { exportParsingLabels, type ParsingExport } from '../annotation/export-parsing.js';
/** The start map of a parsing correction: a run's model or the face mesh (loads tfjs and the face model in this process). */
export { parsingStart, type ParsingStart, type ParsingStartFrom } from '../annotation/parsing-start.js';
