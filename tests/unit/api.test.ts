// The trainer's library API in-process: specs, typed errors, events, stop, scan, mask preview.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import {
  CamdError,
  maskPreview,
  parseSpec,
  PretrainSpec,
  FinetuneSpec,
  RunEvent,
  runPretrain,
  scan,
} from '../../trainer/src/api/index.js';
import { BatchSource } from '../../trainer/src/data/batches.js';
import { DecodeCache, cacheSideFor } from '../../trainer/src/data/decode-cache.js';
import { cacheDirFor } from '../../trainer/src/util/paths.js';
import { clmFaces, faceFolder, tempDir } from '../support/folders.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const caught = (f: () => unknown): CamdError => {
  try {
    f();
  } catch (e) {
    if (e instanceof CamdError) return e;
    throw e;
  }
  throw new Error('no error');
};

describe('specs', () => {
  it('name the field as its flag, with the cause and the field for a form', () => {
    expect(caught(() => parseSpec(PretrainSpec, {}))).toMatchObject({
      kind: 'usage',
      field: 'out',
      message: '--out is required',
    });
    expect(caught(() => parseSpec(PretrainSpec, { out: 'runs/x' }))).toMatchObject({
      kind: 'input',
      field: 'out',
      message: "--out must be an absolute path, got 'runs/x'",
    });
    expect(caught(() => parseSpec(PretrainSpec, { out: '/r', imgSize: 1.5 }))).toMatchObject({
      field: 'imgSize',
      message: '--img-size must be an integer of at least 1 (pixels), got 1.5',
    });
    expect(caught(() => parseSpec(PretrainSpec, { out: '/r', preset: 'gigantic' }))).toMatchObject({
      field: 'preset',
      message: "--preset must be one of micro, tiny, small, base, large, huge, got 'gigantic'",
    });
    expect(caught(() => parseSpec(PretrainSpec, { out: '/r', batchSize: 4 }))).toMatchObject({
      kind: 'usage',
      message: "unknown field(s) 'batchSize'",
    });
    expect(
      caught(() =>
        parseSpec(FinetuneSpec, {
          task: 'fer',
          format: 'folders',
          data: '/d',
          init: '/e.safetensors',
          out: '/o',
          preset: 'tiny',
        }),
      ),
    ).toMatchObject({
      field: 'preset',
      message: '--preset goes with --init none; a checkpoint brings its own architecture',
    });
    expect(
      caught(() =>
        parseSpec(FinetuneSpec, {
          task: 'fer',
          format: 'folders',
          data: '/d',
          init: '/e',
          out: '/o',
          randAugment: 'heavy',
        }),
      ),
    ).toMatchObject({ field: 'randAugment', message: "--aa must be rand-m9-mstd0.5-inc1 or none, got 'heavy'" });
    expect(parseSpec(PretrainSpec, { out: '/r', steps: 3 })).toEqual({ out: '/r', steps: 3 });
  });
});

describe('mask preview', () => {
  it('is the batch code of the trainer for a batch of one: round(ratio·N) masked patches, S×S views, the same mask as BatchSource', async () => {
    const image = clmFaces()[0]!;
    const db = join(tempDir('db'), 'camd.db');
    const p = await maskPreview({ image, db, preset: 'tiny', maskRatio: 0.5, seed: 3, sample: 4 });
    expect(p).toMatchObject({ imgSize: 112, patchSize: 16, grid: 7, tokens: 49, masked: 25, visible: 24 });
    expect(p.mask.filter((m) => m === 1)).toHaveLength(25);
    expect(p.view1.rgb).toHaveLength(112 * 112 * 3);
    expect(p.view2.rgb).toHaveLength(112 * 112 * 3);
    const again = await maskPreview({ image, db, preset: 'tiny', maskRatio: 0.5, seed: 3, sample: 4 });
    expect(Buffer.from(again.view1.rgb).equals(Buffer.from(p.view1.rgb))).toBe(true);
    const other = await maskPreview({ image, db, preset: 'tiny', maskRatio: 0.5, seed: 3, sample: 5 });
    expect(other.mask).not.toEqual(p.mask);
    const sha = createHash('sha256').update(readFileSync(image)).digest('hex');
    const b = await new BatchSource({
      hashes: [sha],
      cache: new DecodeCache(cacheDirFor(db), cacheSideFor(112)),
      imgSize: 112,
      grid: 7,
      maskCount: 25,
      batchSize: 1,
      seed: 3,
    }).batch(4);
    expect(Array.from(b.masks[0]!)).toEqual(p.mask);
    const def = await maskPreview({ image, db });
    expect(def.masked).toBe(Math.round((118 / 196) * 49));
    await expect(maskPreview({ image: '/no/such.jpg', db })).rejects.toMatchObject({ kind: 'input', field: 'image' });
  });
});

describe('scan', () => {
  it('reports progress, and a stop keeps what was inspected; the next scan completes it', async () => {
    const dir = faceFolder(20, 'apiscan');
    const db = join(tempDir('db'), 'camd.db');
    const ctl = new AbortController();
    const seen: number[] = [];
    const part = await scan(
      { dir, db },
      (e) => {
        if (e.type === 'progress') {
          seen.push(e.done);
          if (e.done === 5) ctl.abort();
        }
      },
      ctl.signal,
    );
    expect(part.complete).toBe(false);
    expect(part.images).toBeGreaterThanOrEqual(5);
    expect(part.images).toBeLessThan(20);
    const full = await scan({ dir, db });
    expect(full.complete).toBe(true);
    expect(full.images).toBe(20);
    expect(full.unchanged).toBe(part.images);
    expect(seen[0]).toBe(1);
  });
});

describe('runPretrain in-process', () => {
  it('valid events only, a stop after step 2 finishes with a checkpoint, and the result says stopped', async () => {
    const data = faceFolder(12, 'apirun');
    const out = join(tempDir('run'), 'r');
    const ctl = new AbortController();
    const events: RunEvent[] = [];
    const r = await runPretrain(
      { out, data, db: join(tempDir('db'), 'camd.db'), preset: 'micro', batch: 4, steps: 50, warmupEpochs: 0 },
      (e) => {
        events.push(RunEvent.parse(e));
        if (e.type === 'step' && e.step === 2) ctl.abort();
      },
      ctl.signal,
    );
    expect(r).toMatchObject({ outcome: 'stopped', outDir: out });
    expect(events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step)).toEqual([1, 2]);
    expect(events.find((e) => e.type === 'checkpoint')).toMatchObject({ role: 'full', step: 2 });
    expect(events.at(-1)).toMatchObject({ type: 'done', kind: 'pretrain', reason: 'interrupted', step: 2 });
    await expect(runPretrain({ out, resume: true, batch: 8 })).rejects.toMatchObject({ kind: 'input', field: 'batch' });
  });
});
