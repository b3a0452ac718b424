/**
 * `camd probe`: the probe evaluation (k-NN and linear probe on a labelled folder) for any number
 * of encoders — pre-training checkpoints, encoder files, fine-tuned classifiers' encoders — beside
 * an untrained network of the same architecture, the raw-pixel baseline and a positive control (a
 * face-description network known to be good on faces: a probe set it cannot rank above the others
 * has no signal), in one table; with folds, the fold-to-fold spread.
 */
import { basename } from 'node:path';
import { existsSync } from 'node:fs';
import { readEncoder } from '../finetune/classifier.js';
import { presetConfig, type ModelConfig, type PresetName } from '../model/config.js';
import { Store } from '../store/store.js';
import type { EventSink } from '../protocol/events.js';
import { UserError } from '../util/errors.js';
import { defaultDbPath } from '../util/paths.js';
import { loadProbeSet, probeEncoder, scoreAll, type ProbeScores } from './evaluate.js';

export interface ProbeSpec {
  checkpoints: string[];
  data: string;
  format: string;
  schema?: string;
  /** Also an untrained network of the first checkpoint's architecture (or of `preset`). */
  random?: boolean;
  /** Also the raw-pixel baseline. */
  pixels?: boolean;
  /** Also the positive control: a face-description network known to be good on faces (probe/face-descriptor.ts). */
  control?: boolean;
  preset?: PresetName;
  imgSize?: number;
  seed?: number;
  /** k-fold cross-validation over every probe face instead of the split (small probe sets). */
  folds?: number;
  db?: string;
  backend?: string;
}

export interface ProbeRow extends ProbeScores {
  name: string;
  source: string;
}

export interface ProbeResult {
  task: 'far' | 'fer';
  classes: number;
  split: string;
  rows: ProbeRow[];
}

export async function runProbe(spec: ProbeSpec, emit: EventSink): Promise<ProbeResult> {
  const { selectBackendFor } = await import('../backends/ladder.js');
  await selectBackendFor(spec.backend);
  if (spec.checkpoints.length === 0 && !spec.random && !spec.pixels && !spec.control)
    throw new UserError(
      'nothing to probe: give --checkpoint FILE (any number), --random, --pixels or --control',
      2,
      'checkpoint',
    );
  const encoders = spec.checkpoints.map((file) => {
    if (!existsSync(file)) throw new UserError(`the checkpoint ${file} does not exist`, 2, 'checkpoint');
    try {
      return { file, ...readEncoder(file) };
    } catch (e) {
      throw new UserError((e as Error).message, 2, 'checkpoint');
    }
  });
  const base: ModelConfig =
    encoders[0]?.model ??
    presetConfig(spec.preset ?? 'tiny', spec.imgSize !== undefined ? { imgSize: spec.imgSize } : {}).model;
  const store = new Store(spec.db ?? defaultDbPath());
  try {
    store.reapDeadRuns();
    const set = await loadProbeSet(store, spec.format, spec.data, {
      ...(spec.seed !== undefined ? { seed: spec.seed } : {}),
      ...(spec.schema ? { schema: spec.schema } : {}),
    });
    const rows: ProbeRow[] = [];
    const progress = (done: number, total: number) => emit({ type: 'progress', phase: 'features', done, total });
    const f = spec.folds;
    for (const e of encoders)
      rows.push({
        name: basename(e.file),
        source: e.file,
        ...(await probeEncoder(e.model, e.tensors, set, store.file, progress, f)),
      });
    if (spec.random)
      rows.push({
        name: 'untrained (random init)',
        source: `same architecture, fine-tuning's initialisation, seed 0 (${base.embedDim} wide, ${base.depth} deep, ${base.imgSize} px)`,
        ...(await probeEncoder(base, 'random', set, store.file, progress, f)),
      });
    if (spec.pixels)
      rows.push({
        name: 'pixels',
        source: `the normalised ${base.imgSize}-px input averaged to 16×16×3`,
        ...(await probeEncoder(base, 'pixels', set, store.file, progress, f)),
      });
    if (spec.control) {
      const { descriptorFeatures, DESCRIPTOR_SIZE } = await import('./face-descriptor.js');
      const { facePackageVersion } = await import('../faces/model-files.js');
      const t0 = performance.now();
      const feats = await descriptorFeatures(set, store.file, progress);
      rows.push({
        name: 'face descriptor (control)',
        source: `@vladmandic/human@${facePackageVersion()} faceres: the 1024-d face description at ${DESCRIPTOR_SIZE} px, a network trained on faces`,
        ...scoreAll(set, feats, (performance.now() - t0) / 1000, f),
      });
    }
    const n = set.train.length + set.test.length;
    return {
      task: set.task,
      classes: set.names.length,
      split: f ? `${f}-fold cross-validation over all ${n} probe faces` : set.splitNote,
      rows,
    };
  } finally {
    store.close();
  }
}
