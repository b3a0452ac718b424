/**
 * `camd finetune --task landmarks`: a landmark dataset (300W, WFLW, AFLW-19; landmark-formats.ts)
 * split into training and test samples (seeded, TEST_FRACTION held out), the encoder of a
 * `camd pretrain` checkpoint (or random weights) fine-tuned with the heatmap head, evaluated every
 * epoch with the literature's metric (NME by the scheme's normaliser, failure rate and AUC at 10 %),
 * and written to the run folder: `landmarks.safetensors` (the model, loadable again) and
 * `metrics.json` (per epoch, and the cumulative error distribution of the last).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendDetail } from '../backends/ladder.js';
import { type ModelConfig, type PresetName } from '../model/config.js';
import { encodeTensorFile } from '../store/checkpoint.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { CamdError } from '../util/errors.js';
import { seededSplit, startingModel } from '../tasks/task-setup.js';
import {
  FORMAT_SCHEME,
  type LandmarkFormat,
  type LandmarkSample,
  readLandmarkDataset,
} from '../geometry/landmark-formats.js';
import { type NmeSummary, nme, summarise } from '../geometry/landmark-metrics.js';
import { type LandmarkScheme, SCHEMES } from '../geometry/landmark-schemes.js';
import { LANDMARKS_FORMAT } from './landmark-file.js';
import { type LandmarkProgress, trainLandmarks } from './landmark-train.js';

export { TEST_FRACTION } from '../tasks/task-setup.js';

export interface LandmarkRunSpec {
  format: LandmarkFormat;
  data: string;
  /** The dataset's own test set (same format); without it a seeded TEST_FRACTION of `data` is held out. */
  testData?: string;
  /** A checkpoint or encoder file, or 'none'. */
  init: string;
  preset?: PresetName;
  imgSize?: number;
  epochs: number;
  batch: number;
  blr: number;
  warmupEpochs: number;
  dropPath: number;
  weightDecay: number;
  seed: number;
  out: string;
  backend?: string;
}

export type LandmarkRunEvent =
  | {
      type: 'start';
      train: number;
      test: number;
      skipped: number;
      scheme: string;
      points: number;
      backend: string;
      /** The backend's package and what was tried before it (backends/ladder.ts backendDetail). */
      backend_detail: string;
      init: string;
      pos_embed: string;
      out: string;
      model: ModelConfig;
      epochs: number;
      batch: number;
      steps_per_epoch: number;
    }
  | Exclude<LandmarkProgress, { type: 'ready' }>
  /** The test split's error after each epoch, with its cumulative error distribution. */
  | { type: 'eval'; epoch: number; summary: NmeSummary }
  /** file and summary null: stopped before the first epoch was evaluated, nothing written. */
  | { type: 'done'; file: string | null; summary: NmeSummary | null };

export interface LandmarkRunResult {
  file: string | null;
  summary: NmeSummary | null;
  epochs: { epoch: number; loss: number; summary: Omit<NmeSummary, 'ced'> }[];
}

/**
 * The samples a run trains and tests on: the dataset's own test set (`testData`), or a seeded
 * TEST_FRACTION of `data` held out — the same split for the run and for `camd eval` of its model.
 */
export async function landmarkSplit(spec: {
  format: LandmarkFormat;
  data: string;
  testData?: string | undefined;
  seed: number;
}): Promise<{ train: LandmarkSample[]; test: LandmarkSample[]; skipped: number }> {
  const ds = await readLandmarkDataset(spec.format, spec.data);
  if (ds.samples.length < 2)
    throw new CamdError(
      'input',
      `${spec.data}: ${ds.samples.length} usable sample(s); at least 2 are needed (one to train, one to test)`,
    );
  if (spec.testData !== undefined) {
    const t = await readLandmarkDataset(spec.format, spec.testData);
    if (t.samples.length === 0)
      throw new CamdError('input', `${spec.testData}: no usable sample to test on`, 'testData');
    return { train: ds.samples, test: t.samples, skipped: ds.skipped.length + t.skipped.length };
  }
  return { ...seededSplit(ds.samples, spec.seed, 'landmark-split'), skipped: ds.skipped.length };
}

/** One sample's error: the scheme's NME, from points and the normalising box's size in view pixels. */
export function landmarkErrorOf(
  scheme: LandmarkScheme,
): (pred: Float32Array, truth: Float32Array, boxSize: number | null) => number {
  return (pred, truth, boxSize) => nme(pred, truth, scheme, boxSize !== null ? [0, 0, boxSize, boxSize] : null);
}

export async function runLandmarks(
  spec: LandmarkRunSpec,
  emit: (e: LandmarkRunEvent) => void,
  signal?: AbortSignal,
): Promise<LandmarkRunResult> {
  const scheme = FORMAT_SCHEME[spec.format];
  const info = SCHEMES[scheme];
  const { train, test, skipped } = await landmarkSplit(spec);
  const { model, encoder, sel } = await startingModel(spec);
  const errorOf = landmarkErrorOf(scheme);
  const r = await trainLandmarks({
    model,
    encoder: encoder?.tensors ?? null,
    points: info.points,
    flipMap: info.flip,
    train,
    test,
    epochs: spec.epochs,
    batch: spec.batch,
    blr: spec.blr,
    weightDecay: spec.weightDecay,
    warmupEpochs: spec.warmupEpochs,
    dropPath: spec.dropPath,
    seed: spec.seed,
    errorOf,
    signal,
    onProgress: (e) => {
      if (e.type === 'ready') {
        emit({
          type: 'start',
          train: train.length,
          test: test.length,
          skipped,
          scheme,
          points: info.points,
          backend: sel.backend,
          backend_detail: backendDetail(sel),
          init: spec.init,
          pos_embed: e.posEmbed,
          out: spec.out,
          model,
          epochs: spec.epochs,
          batch: e.batch,
          steps_per_epoch: e.stepsPerEpoch,
        });
        return;
      }
      emit(e);
      if (e.type === 'epoch') emit({ type: 'eval', epoch: e.epoch, summary: summarise(e.errors) });
    },
  });
  try {
    // stopped before the first epoch was evaluated: nothing written (as head pose and parsing)
    const last = r.epochs.at(-1);
    if (!last) {
      emit({ type: 'done', file: null, summary: null });
      return { file: null, summary: null, epochs: [] };
    }
    mkdirSync(spec.out, { recursive: true });
    const file = join(spec.out, 'landmarks.safetensors');
    const tensors = await r.model.clf.exportTensors();
    const { bytes } = encodeTensorFile(
      LANDMARKS_FORMAT,
      { task: 'landmarks', scheme, points: info.points, model, init: spec.init, pos_embed: r.posEmbed },
      tensors,
    );
    writeFileAtomic(file, bytes);
    const summary = summarise(last.errors);
    const epochs = r.epochs.map((e) => {
      const { ced: _ced, ...s } = summarise(e.errors);
      return { epoch: e.epoch, loss: e.loss, summary: s };
    });
    writeFileSync(
      join(spec.out, 'metrics.json'),
      `${JSON.stringify({ task: 'landmarks', format: spec.format, scheme, backend: sel.backend, train: train.length, test: test.length, epochs, test_summary: summary }, null, 1)}\n`,
    );
    emit({ type: 'done', file, summary });
    return { file, summary, epochs };
  } finally {
    r.model.dispose();
  }
}
