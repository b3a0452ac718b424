/**
 * `camd see`: what the model sees, as pictures the app can show and files the CLI writes.
 *   --image FILE: prediction.png (the student's per-patch prediction quality, masked patches
 *     outlined) and attention.png (the teacher's last-block attention) for one face;
 *   --data DIR: projection.png and projection.json, the folder's faces on their two principal
 *     components under the encoder, framed by label where --format gives labels.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../util/atomic-file.js';
import { UserError } from '../util/errors.js';
import { defaultDbPath } from '../util/paths.js';
import { Store } from '../store/store.js';
import { scanDataset } from '../data/scan.js';
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { readEncoder } from '../finetune/classifier.js';
import type { EventSink } from '../protocol/events.js';
import { heatPng, seeFace } from './see.js';
import { loadProbeSet, probeFeatures, type ProbeSet } from '../probe/evaluate.js';
import { pca2, projectionPng, type ProjectedPoint } from './projection.js';
import { makeFolder } from '../util/system-errors.js';

export interface SeeSpec {
  checkpoint: string;
  out: string;
  image?: string;
  data?: string;
  format?: string;
  schema?: string;
  maskRatio?: number;
  seed?: number;
  db?: string;
  backend?: string;
}

export interface SeeResult {
  files: string[];
  face?: { meanCosineMasked: number; meanCosineVisible: number; grid: number; masked: number; step: number };
  projection?: { points: number; explained: [number, number]; labels: string[] };
}

export async function runSee(spec: SeeSpec, emit: EventSink): Promise<SeeResult> {
  if (!spec.image === !spec.data)
    throw new UserError('camd see takes --image FILE (one face) or --data DIR (a map of a folder)', 2, 'image');
  const { selectBackendFor } = await import('../backends/ladder.js');
  await selectBackendFor(spec.backend);
  makeFolder(spec.out, 'the folder');
  if (spec.image) {
    const v = await seeFace({
      checkpoint: spec.checkpoint,
      image: spec.image,
      ...(spec.maskRatio !== undefined ? { maskRatio: spec.maskRatio } : {}),
      ...(spec.seed !== undefined ? { seed: spec.seed } : {}),
    });
    const pred = join(spec.out, 'prediction.png');
    const att = join(spec.out, 'attention.png');
    writeFileAtomic(pred, await heatPng(v, v.cosine, { lo: -1, hi: 1, outline: true }));
    writeFileAtomic(att, await heatPng(v, v.attention, { lo: 0, hi: Math.max(...v.attention) }));
    const json = join(spec.out, 'face.json');
    writeFileAtomic(json, Buffer.from(`${JSON.stringify({ ...v, face: undefined })}\n`));
    return {
      files: [pred, att, json],
      face: {
        meanCosineMasked: v.meanCosineMasked,
        meanCosineVisible: v.meanCosineVisible,
        grid: v.grid,
        masked: v.mask.filter((m) => m).length,
        step: v.step,
      },
    };
  }
  let enc;
  try {
    enc = readEncoder(spec.checkpoint);
  } catch (e) {
    throw new UserError((e as Error).message, 2, 'checkpoint');
  }
  const store = new Store(spec.db ?? defaultDbPath());
  try {
    store.reapDeadRuns();
    let set: ProbeSet;
    let labelOf = (_sha: string): string | null => null;
    if (spec.format) {
      set = await loadProbeSet(store, spec.format, spec.data!, spec.schema ? { schema: spec.schema } : {});
      const names = set.names;
      const byShaLabel = new Map(
        [...set.train, ...set.test].map((i) => [
          i.sha256,
          set.task === 'fer' ? names[i.labels[0]!]! : names.filter((_, k) => i.labels[k] === 1).join('+') || 'none',
        ]),
      );
      labelOf = (sha) => byShaLabel.get(sha) ?? null;
    } else {
      const r = await scanDataset(store, spec.data!, { maxPixels: DEFAULT_MAX_PIXELS });
      const items = store
        .images(r.datasetId, 'ok')
        .map((i) => ({ path: i.rel_path, sha256: i.sha256!, labels: [0], split: 'train' as const }));
      if (items.length < 3)
        throw new UserError(`${spec.data} has ${items.length} readable image(s): a map needs at least 3`, 2, 'data');
      set = { root: r.root, task: 'fer', names: ['face'], train: items, test: [], splitNote: '' };
    }
    const feats = await probeFeatures(enc.model, enc.tensors, set, store.file, (done, total) =>
      emit({ type: 'progress', phase: 'features', done, total }),
    );
    const items = [...set.train, ...set.test];
    const { coords, explained } = pca2(items.map((i) => feats.get(i.sha256)!));
    const points: ProjectedPoint[] = items.map((i, k) => ({
      path: i.path,
      x: coords[k]![0],
      y: coords[k]![1],
      label: labelOf(i.sha256),
    }));
    const t = 40;
    const thumbs = await Promise.all(
      items.map(
        async (i) =>
          new Uint8Array(
            await sharp(readFileSync(join(set.root, i.path)))
              .rotate()
              .resize(t, t, { fit: 'cover' })
              .removeAlpha()
              .toColourspace('srgb')
              .raw()
              .toBuffer(),
          ),
      ),
    );
    const png = join(spec.out, 'projection.png');
    const json = join(spec.out, 'projection.json');
    writeFileAtomic(png, await projectionPng(points, thumbs, t));
    const labels = [...new Set(points.map((p) => p.label).filter((l): l is string => l !== null))].sort();
    writeFileAtomic(json, Buffer.from(`${JSON.stringify({ explained, labels, points })}\n`));
    return { files: [png, json], projection: { points: points.length, explained, labels } };
  } finally {
    store.close();
  }
}
