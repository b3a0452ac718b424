/**
 * Images/s of the data pipeline alone (decode-cache read → two-view augmentation → masks),
 * the part that must keep up with the trainer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Store } from '../store/store.js';
import { scanDataset } from '../data/scan.js';
import { DecodeCache, cacheSideFor } from '../data/decode-cache.js';
import { BatchSource } from '../data/batches.js';
import { DEFAULT_MAX_PIXELS } from '../data/image-io.js';
import { gridOf, maskedCount, type CamdConfig } from '../model/config.js';
import { Rng } from '../util/rng.js';

/** Writes n 250×250 JPEGs of smooth random colour fields (stand-ins when no --data is given). */
async function makeImages(dir: string, n: number): Promise<void> {
  const rng = new Rng(1);
  for (let i = 0; i < n; i++) {
    const small = Buffer.alloc(8 * 8 * 3);
    for (let k = 0; k < small.length; k++) small[k] = rng.int(0, 255);
    await sharp(small, { raw: { width: 8, height: 8, channels: 3 } })
      .resize(250, 250, { kernel: 'cubic' })
      .jpeg({ quality: 90 })
      .toFile(join(dir, `img_${i}.jpg`));
  }
}

export interface PipelineResult {
  images_per_s: number;
  batches: number;
  batch: number;
  source: string;
}

export async function benchPipeline(
  cfg: CamdConfig,
  batch: number,
  batches: number,
  data?: string,
): Promise<PipelineResult> {
  const work = mkdtempSync(join(tmpdir(), 'camd-bench-'));
  try {
    const dir = data ?? join(work, 'images');
    if (!data) {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(dir);
      await makeImages(dir, Math.max(64, batch * 4));
    }
    const store = new Store(join(work, 'camd.db'));
    const rep = await scanDataset(store, dir);
    const rows = store.images(rep.datasetId, 'ok');
    store.close();
    const cache = new DecodeCache(join(work, 'cache'), cacheSideFor(cfg.model.imgSize));
    await cache.ensure(
      rows.map((r) => ({ abs: join(rep.root, r.rel_path), sha256: r.sha256! })),
      DEFAULT_MAX_PIXELS,
    );
    const { grid, tokens } = gridOf(cfg.model);
    const src = new BatchSource({
      hashes: rows.map((r) => r.sha256!),
      cache,
      imgSize: cfg.model.imgSize,
      grid,
      maskCount: maskedCount(cfg.mask.ratio, tokens),
      batchSize: batch,
      seed: 0,
    });
    await src.batch(0); // warm-up
    const t0 = performance.now();
    for (let s = 1; s <= batches; s++) await src.batch(s);
    const secs = (performance.now() - t0) / 1000;
    return {
      images_per_s: (batches * batch) / secs,
      batches,
      batch,
      source: data ? `--data ${data}` : `${rows.length} generated 250×250 JPEGs`,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
