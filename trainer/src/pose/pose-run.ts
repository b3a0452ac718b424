/**
 * `camd finetune --task pose`: a head-pose dataset (300W-LP / pseudo-labels, AFLW2000, BIWI;
 * pose-formats.ts) split into training and test faces (seeded, TEST_FRACTION held out), the
 * encoder of a `camd pretrain` checkpoint (or random weights) fine-tuned with the 6-D head,
 * evaluated every epoch with the literature's metrics (yaw, pitch, roll MAE and their mean, and the
 * geodesic error), and written to the run folder: `pose.safetensors` (the model) and `metrics.json`.
 *
 * BIWI frames have no face box: the bundled face detector (faces/detector.ts) finds the face, the
 * largest one, and the box of its 68 points stands for the box of pt2d; a frame where it finds none
 * is left out and counted (`noFace`), as FSA-Net's BIWI preparation leaves out the frames its
 * detector misses.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendDetail } from '../backends/ladder.js';
import { decodeRgb } from '../data/image-io.js';
import { seededSplit, startingModel } from '../tasks/task-setup.js';
import { type ModelConfig, type PresetName } from '../model/config.js';
import { encodeTensorFile } from '../store/checkpoint.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { CamdError } from '../util/errors.js';
import { type PoseFormat, type PoseSample, readPoseDataset } from './pose-formats.js';
import { poseError, type PoseSummary, summarisePose } from './pose-metrics.js';
import { rotationFromEuler } from './rotation.js';
import { type PoseItem, type PoseProgress, trainPose } from './pose-train.js';

export const POSE_FILE_FORMAT = 'camd-pose';

export interface PoseRunSpec {
  format: PoseFormat;
  data: string;
  /** The dataset's own test set (AFLW2000 or BIWI when training on 300W-LP); without it a seeded TEST_FRACTION of `data`. */
  testData?: { format: PoseFormat; data: string };
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

export type PoseRunEvent =
  | { type: 'detect'; done: number; total: number }
  | {
      type: 'start';
      format: PoseFormat;
      train: number;
      test: number;
      skipped: number;
      beyond99: number;
      noFace: number;
      /** The test faces' errors when every face is predicted frontal (the identity): what training must beat. */
      frontal: PoseSummary;
      backend: string;
      backend_detail: string;
      init: string;
      pos_embed: string;
      out: string;
      model: ModelConfig;
      batch: number;
      steps_per_epoch: number;
    }
  | Exclude<PoseProgress, { type: 'ready' | 'epoch' }>
  | { type: 'epoch'; epoch: number; loss: number }
  | { type: 'eval'; epoch: number; summary: PoseSummary }
  /** file and summary null: stopped before the first epoch was evaluated, nothing written. */
  | { type: 'done'; file: string | null; summary: PoseSummary | null };

export interface PoseRunResult {
  file: string | null;
  summary: PoseSummary | null;
  epochs: { epoch: number; loss: number; summary: PoseSummary }[];
}

/** The faces of samples without a box (BIWI) found by the face detector; those without a face left out. */
async function withBoxes(
  samples: PoseSample[],
  emit: (e: PoseRunEvent) => void,
): Promise<{ items: PoseItem[]; noFace: string[] }> {
  const need = samples.filter((s) => s.box === null);
  const found = new Map<PoseSample, [number, number, number, number]>();
  if (need.length) {
    const { FaceDetector } = await import('../faces/detector.js');
    const det = await FaceDetector.create();
    let done = 0;
    for (const s of need) {
      const faces = await det.detect(await decodeRgb(readFileSync(s.image)));
      const face = faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
      if (face) {
        const xs = face.landmarks68.map((p) => p[0]);
        const ys = face.landmarks68.map((p) => p[1]);
        found.set(s, [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]);
      }
      emit({ type: 'detect', done: ++done, total: need.length });
    }
  }
  const items: PoseItem[] = [];
  const noFace: string[] = [];
  for (const s of samples) {
    const box = s.box ?? found.get(s);
    if (box) items.push({ image: s.image, R: s.R, angles: s.angles, box });
    else noFace.push(s.image);
  }
  return { items, noFace };
}

/**
 * The faces a run trains and tests on (BIWI's found by the face detector): the dataset's own test
 * set (`testData`), or a seeded TEST_FRACTION of `data` held out — the same split for the run and
 * for `camd eval` of its model. `beyond`: faces beyond ±99° left out; `missed`: frames without a face found.
 */
export async function poseSplit(
  spec: { format: PoseFormat; data: string; testData?: { format: PoseFormat; data: string } | undefined; seed: number },
  emit: (e: PoseRunEvent) => void,
): Promise<{ train: PoseItem[]; test: PoseItem[]; skipped: number; beyond: number; missed: number }> {
  const ds = await readPoseDataset(spec.format, spec.data);
  const { items, noFace } = await withBoxes(ds.samples, emit);
  let skipped = ds.skipped.length;
  let beyond = ds.beyond;
  let missed = noFace.length;
  let train: PoseItem[];
  let test: PoseItem[];
  if (spec.testData) {
    const t = await readPoseDataset(spec.testData.format, spec.testData.data);
    const found = await withBoxes(t.samples, emit);
    if (items.length < 1 || found.items.length < 1)
      throw new CamdError(
        'input',
        `${items.length < 1 ? spec.data : spec.testData.data}: no usable face${noFace.length + found.noFace.length ? ' (frames without a face found)' : ''}`,
      );
    train = items;
    test = found.items;
    skipped += t.skipped.length;
    beyond += t.beyond;
    missed += found.noFace.length;
  } else {
    if (items.length < 2)
      throw new CamdError(
        'input',
        `${spec.data}: ${items.length} usable face(s)${noFace.length ? ` (${noFace.length} frame(s) without a face found)` : ''}; at least 2 are needed (one to train, one to test)`,
      );
    ({ train, test } = seededSplit(items, spec.seed, 'pose-split'));
  }

  return { train, test, skipped, beyond, missed };
}

/** The test faces' errors when every face is predicted frontal (the identity): what a model must beat. */
export function frontalBaseline(test: readonly PoseItem[]): PoseSummary {
  const I = rotationFromEuler(0, 0, 0);
  return summarisePose(test.map((t) => poseError(I, t.R, t.angles)));
}

export async function runPose(
  spec: PoseRunSpec,
  emit: (e: PoseRunEvent) => void,
  signal?: AbortSignal,
): Promise<PoseRunResult> {
  const { train, test, skipped, beyond, missed } = await poseSplit(spec, emit);

  const frontal = frontalBaseline(test);

  const { model, encoder, sel } = await startingModel(spec);
  const r = await trainPose({
    model,
    encoder: encoder?.tensors ?? null,
    train,
    test,
    epochs: spec.epochs,
    batch: spec.batch,
    blr: spec.blr,
    weightDecay: spec.weightDecay,
    warmupEpochs: spec.warmupEpochs,
    dropPath: spec.dropPath,
    seed: spec.seed,
    signal,
    onProgress: (e) => {
      if (e.type === 'ready') {
        emit({
          type: 'start',
          format: spec.format,
          train: train.length,
          test: test.length,
          skipped,
          beyond99: beyond,
          noFace: missed,
          frontal,
          backend: sel.backend,
          backend_detail: backendDetail(sel),
          init: spec.init,
          pos_embed: e.posEmbed,
          out: spec.out,
          model,
          batch: e.batch,
          steps_per_epoch: e.stepsPerEpoch,
        });
      } else if (e.type === 'epoch') {
        emit({ type: 'epoch', epoch: e.epoch, loss: e.loss });
        emit({ type: 'eval', epoch: e.epoch, summary: summarisePose(e.errors) });
      } else emit(e);
    },
  });
  try {
    const last = r.epochs.at(-1);
    if (!last) {
      emit({ type: 'done', file: null, summary: null });
      return { file: null, summary: null, epochs: [] };
    }
    mkdirSync(spec.out, { recursive: true });
    const file = join(spec.out, 'pose.safetensors');
    const tensors = await r.model.clf.exportTensors();
    const { bytes } = encodeTensorFile(
      POSE_FILE_FORMAT,
      {
        task: 'pose',
        representation: '6d (Gram-Schmidt, columns x y z)',
        convention: '300w-lp: R = Rz(roll) Ry(yaw) Rx(pitch)',
        model,
        init: spec.init,
        pos_embed: r.posEmbed,
      },
      tensors,
    );
    writeFileAtomic(file, bytes);
    const summary = summarisePose(last.errors);
    const epochs = r.epochs.map((e) => ({ epoch: e.epoch, loss: e.loss, summary: summarisePose(e.errors) }));
    writeFileSync(
      join(spec.out, 'metrics.json'),
      `${JSON.stringify(
        {
          task: 'pose',
          format: spec.format,
          backend: sel.backend,
          train: train.length,
          test: test.length,
          left_out: { beyond99: beyond, no_face: missed, skipped },
          frontal_baseline: frontal,
          units: 'degrees; loss: mean geodesic distance in radians',
          epochs,
          test_summary: summary,
        },
        null,
        1,
      )}\n`,
    );
    emit({ type: 'done', file, summary });
    return { file, summary, epochs };
  } finally {
    r.model.dispose();
  }
}
