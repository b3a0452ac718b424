/**
 * `camd finetune --task parsing`: a face-parsing dataset (LaPa, CelebAMask-HQ; parsing-formats.ts)
 * split into training and test samples (the dataset's own split when it has one, else a seeded
 * TEST_FRACTION held out), the encoder of a `camd pretrain` checkpoint (or random weights)
 * fine-tuned with the UperNet-style head, evaluated every epoch with FaRL's metric (per-class F1,
 * mean F1 without background, pixel accuracy), and written to the run folder: `parsing.safetensors`
 * (the model) and `metrics.json` (per epoch, and the last epoch's per-class F1 by name).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendDetail } from '../backends/ladder.js';
import { seededSplit, startingModel, TEST_FRACTION } from '../tasks/task-setup.js';
import { type ModelConfig, type PresetName } from '../model/config.js';
import { encodeTensorFile } from '../store/checkpoint.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { CamdError } from '../util/errors.js';
import { CLASS_MAPS } from './parsing-classes.js';
import { FORMAT_PARSING_SCHEME, type ParsingFormat, readParsingDataset } from './parsing-formats.js';
import type { ParsingSummary } from './parsing-metrics.js';
import type { ParsingSample } from './parsing-sample.js';
import { type ParsingProgress, trainParsing } from './parsing-train.js';

export const PARSING_FILE_FORMAT = 'camd-parsing';

export interface ParsingRunSpec {
  format: ParsingFormat;
  data: string;
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
  width: number;
  dice: number;
  seed: number;
  out: string;
  backend?: string;
}

export type ParsingRunEvent =
  | {
      type: 'start';
      train: number;
      test: number;
      skipped: number;
      split: string;
      scheme: string;
      classes: number;
      backend: string;
      backend_detail: string;
      init: string;
      pos_embed: string;
      out: string;
      model: ModelConfig;
      batch: number;
      steps_per_epoch: number;
    }
  | Exclude<ParsingProgress, { type: 'ready' | 'epoch' }>
  | { type: 'eval'; epoch: number; loss: number; summary: ParsingSummary }
  /** file and summary null: stopped before the first epoch was evaluated, nothing written. */
  | { type: 'done'; file: string | null; summary: ParsingSummary | null };

export interface ParsingRunResult {
  file: string | null;
  summary: ParsingSummary | null;
  epochs: { epoch: number; loss: number; summary: ParsingSummary }[];
}

/** The dataset's own train/test split, or a seeded TEST_FRACTION of it held out. */
export function splitParsing(
  samples: ParsingSample[],
  seed: number,
): { train: ParsingSample[]; test: ParsingSample[]; own: boolean } {
  if (samples.some((s) => s.split !== null))
    return {
      train: samples.filter((s) => s.split === 'train'),
      test: samples.filter((s) => s.split === 'test'),
      own: true,
    };
  return { ...seededSplit(samples, seed, 'parsing-split'), own: false };
}

export async function runParsing(
  spec: ParsingRunSpec,
  emit: (e: ParsingRunEvent) => void,
  signal?: AbortSignal,
): Promise<ParsingRunResult> {
  const scheme = FORMAT_PARSING_SCHEME[spec.format];
  const { names } = CLASS_MAPS[scheme];
  const ds = await readParsingDataset(spec.format, spec.data);
  const { train, test, own } = splitParsing(ds.samples, spec.seed);
  if (train.length < 1 || test.length < 1)
    throw new CamdError(
      'input',
      `${spec.data}: ${train.length} training and ${test.length} test sample(s); at least one of each is needed`,
    );
  const { model, encoder, sel } = await startingModel(spec);
  const r = await trainParsing({
    model,
    encoder: encoder?.tensors ?? null,
    scheme,
    train,
    test,
    epochs: spec.epochs,
    batch: spec.batch,
    blr: spec.blr,
    weightDecay: spec.weightDecay,
    warmupEpochs: spec.warmupEpochs,
    dropPath: spec.dropPath,
    width: spec.width,
    dice: spec.dice,
    seed: spec.seed,
    signal,
    onProgress: (e) => {
      if (e.type === 'ready')
        emit({
          type: 'start',
          train: train.length,
          test: test.length,
          skipped: ds.skipped.length,
          split: own ? (ds.split ?? 'the dataset’s own') : `seeded ${Math.round(TEST_FRACTION * 100)} % held out`,
          scheme,
          classes: names.length,
          backend: sel.backend,
          backend_detail: backendDetail(sel),
          init: spec.init,
          pos_embed: e.posEmbed,
          out: spec.out,
          model,
          batch: e.batch,
          steps_per_epoch: e.stepsPerEpoch,
        });
      else if (e.type === 'epoch') emit({ type: 'eval', epoch: e.epoch, loss: e.loss, summary: e.summary });
      else emit(e);
    },
  });
  try {
    const last = r.epochs.at(-1);
    if (!last) {
      emit({ type: 'done', file: null, summary: null });
      return { file: null, summary: null, epochs: [] };
    }
    mkdirSync(spec.out, { recursive: true });
    const file = join(spec.out, 'parsing.safetensors');
    const { bytes } = encodeTensorFile(
      PARSING_FILE_FORMAT,
      {
        task: 'parsing',
        scheme,
        classes: names,
        model,
        head: { width: spec.width, taps: r.model.taps },
        init: spec.init,
        pos_embed: r.posEmbed,
      },
      await r.model.exportTensors(),
    );
    writeFileAtomic(file, bytes);
    const byName = Object.fromEntries(names.map((n, i) => [n, last.summary.f1[i]]));
    writeFileSync(
      join(spec.out, 'metrics.json'),
      `${JSON.stringify(
        {
          task: 'parsing',
          format: spec.format,
          scheme,
          classes: names,
          backend: sel.backend,
          train: train.length,
          test: test.length,
          split: own ? ds.split : 'seeded',
          mean_f1: 'mean of the per-class F1 of every class but background (0)',
          epochs: r.epochs,
          test_summary: { ...last.summary, f1_by_class: byName },
        },
        null,
        1,
      )}\n`,
    );
    emit({ type: 'done', file, summary: last.summary });
    return { file, summary: last.summary, epochs: r.epochs };
  } finally {
    r.model.dispose();
  }
}
