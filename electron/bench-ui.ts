/**
 * `npm run bench -- --ui`: the renderer's speed in Debian's Chromium (browser mode, real services),
 * written to bench/ui-results.json and printed (a benchmark, never a test):
 *   - grid: a dataset of 100 000 distinct JPEG faces (bench-faces.ts: crops of the test
 *     photographs, 96–160 px; their generation rate too) scanned by the app, the time to the first
 *     thumbnails (cold and cached), and frame times while the virtualised grid is scrolled through
 *     in 300 steps;
 *   - fastScroll (bench-ui-scroll.ts), with no thumbnail made yet before each pass: top to bottom at
 *     400 px a frame, and 150 px a frame for --scroll-seconds (or to the bottom): frame p50/p95/max,
 *     long tasks, the most DOM nodes, the JS heap, the time after the scroll stops until every cell
 *     in view shows its image, the thumbnails the host was asked for and made during and after the
 *     scroll; and the time to open an image right after a second of fast scrolling (--opens times). Goals: frames
 *     p95 ≤ 33 ms, thumbnails within 1 s of stopping, an image open in ≤ 100 ms;
 *   - chart: 10 runs × 100 000 points compared, the time from a smoothing change to the redrawn
 *     chart drawn on its canvas (service query, transfer, Vue, uPlot's data join and drawing: the
 *     chart's `chart-drawn` event comes from uPlot's `draw` hook) and the chart's own part of it,
 *     from the series reaching the chart to the canvas drawn.
 * The test photographs are fetched into .cache/test-data first when missing (bench-test-data.ts).
 *
 *   npm run bench -- --ui [--images 100000] [--scroll-seconds 30] [--opens 5] [--runs 10] [--points 100000]
 *     [--test-data .cache/test-data] [--out bench/ui-results.json]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { chromium } from 'playwright-core';
import { App } from './services/app.js';
import { startHost } from './host/http-host.js';
import { packageRoot } from './services/package-root.js';
import { fillMetrics } from './bench-app.js';
import { writeFaces } from './bench-faces.js';
import { TEST_DATA } from './bench-test-data.js';
import { fastScroll } from './bench-ui-scroll.js';

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
/** Where the benchmark is (on stderr: the results alone go to stdout). */
const say = (what: string) => process.stderr.write(`bench --ui: ${new Date().toISOString().slice(11, 19)} ${what}\n`);

async function main(): Promise<void> {
  const o = new Command()
    .option('--ui', 'the renderer benchmark (this one)')
    .option('--images <n>', 'JPEG faces of the grid benchmark', '100000')
    .option('--scroll-seconds <s>', 'how long the 150 px-a-frame fast scroll lasts (unless at the bottom first)', '30')
    .option('--opens <n>', 'images opened, each after a second of fast scrolling from a cold start', '5')
    .option('--runs <n>', 'runs of the chart benchmark', '10')
    .option('--points <n>', 'points a run', '100000')
    .option('--test-data <dir>', 'where the test photographs are (fetched when missing)', TEST_DATA)
    .option('--out <file>', 'results file', 'bench/ui-results.json')
    .parse(process.argv)
    .opts<{
      images: string;
      scrollSeconds: string;
      opens: string;
      runs: string;
      points: string;
      testData: string;
      out: string;
    }>();
  // the compare view draws two runs or more (one asks for another): a chart of one would never draw
  if (!(Number(o.runs) >= 2)) throw new Error(`--runs must be 2 or more (the compare view's chart), not ${o.runs}`);
  if (!(Number.isInteger(Number(o.opens)) && Number(o.opens) >= 1))
    throw new Error(`--opens must be a whole number, 1 or more, not ${o.opens}`);
  const work = mkdtempSync(join(tmpdir(), 'camd-bench-ui-'));
  const app = new App({ dataDir: join(work, 'data') });
  const host = await startHost({ app, port: 0, staticDir: join(packageRoot(), 'renderer', 'dist') });
  const base = `http://127.0.0.1:${host.port}`;
  const ctx = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--enable-precise-memory-info',
    ],
    viewport: { width: 1400, height: 900 },
  });
  try {
    // ---- the grid ----
    const images = Number(o.images);
    say(`making ${images} JPEG faces`);
    const faces = await writeFaces(join(work, 'images'), images, { testData: resolve(o.testData) });
    say('indexing them');
    let t = performance.now();
    const { dataset, job } = await app.datasets.add(faces.dir);
    await app.jobs.settled(job.id, 200);
    const indexSeconds = (performance.now() - t) / 1000;
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on(
      'console',
      (m) => m.type() === 'error' && process.stderr.write(`browser: ${m.text()} (${m.location().url})\n`),
    );
    await page.goto(`${base}/?token=${host.token}`);
    await page.waitForSelector('nav a'); // the app has started (its router made its first navigation)
    /** From the click that opens the dataset (a route change) to 12 thumbnails drawn. */
    const firstThumbs = async (): Promise<number> => {
      await page.evaluate(() => (location.hash = '#/runs'));
      await page.waitForSelector('h1:has-text("Runs")');
      return page.evaluate(async (id) => {
        const t0 = performance.now();
        location.hash = `#/datasets/${id}`;
        for (;;) {
          await new Promise((r) => requestAnimationFrame(() => r(null)));
          const n = Array.from(document.querySelectorAll<HTMLImageElement>('.thumbgrid img')).filter(
            (i) => i.complete && i.naturalWidth > 0,
          ).length;
          if (n >= 12) return performance.now() - t0;
          if (performance.now() - t0 > 120_000) throw new Error('no thumbnails after 120 s');
        }
      }, dataset.id);
    };
    say('the grid: first thumbnails, 300-frame scroll');
    const coldMs = await firstThumbs();
    const cachedMs = await firstThumbs();
    // scroll the whole grid through, 300 frames, and time the frames
    const frames = await page.evaluate(async () => {
      const el = document.querySelector<HTMLElement>('.thumbgrid')!;
      const deltas: number[] = [];
      let last = performance.now();
      const steps = 300;
      for (let k = 1; k <= steps; k++) {
        el.scrollTop = ((el.scrollHeight - el.clientHeight) * k) / steps;
        await new Promise((r) => requestAnimationFrame(() => r(null)));
        const now = performance.now();
        deltas.push(now - last);
        last = now;
      }
      return deltas;
    });
    const grid = {
      images,
      generateSeconds: faces.seconds,
      generatePerSecond: faces.perSecond,
      indexSeconds: round(indexSeconds),
      firstThumbnailsColdMs: round(coldMs),
      firstThumbnailsCachedMs: round(cachedMs),
      scrollFrames: frames.length,
      frameP50Ms: round(pct(frames, 50)),
      frameP95Ms: round(pct(frames, 95)),
      frameMaxMs: round(Math.max(...frames)),
      framesOver50Ms: frames.filter((f) => f > 50).length,
      domThumbsAtEnd: await page.locator('.thumbgrid img').count(),
    };

    // ---- fast scrolls over thumbnails not made yet ----
    say('fast scrolls');
    const scroll = await fastScroll({
      page,
      app,
      base,
      dataset: dataset.id,
      scrollSeconds: Number(o.scrollSeconds),
      opens: Number(o.opens),
    });

    // ---- the chart ----
    t = performance.now();
    say('the chart');
    const ids = fillMetrics(app.store, Number(o.runs), Number(o.points), 'bench');
    const fillSeconds = (performance.now() - t) / 1000;
    await page.goto(`${base}/#/compare?runs=${ids.join(',')}`);
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="compare-chart"]')?.getAttribute('data-points') ?? 0) > 0,
      null,
      { timeout: 120_000 },
    );
    const redraws: { endToEndMs: number; drawMs: number; points: number }[] = [];
    for (let k = 0; k < 12; k++) {
      const value = String(0.3 + (k % 6) * 0.1);
      const r = await page.evaluate(
        (v) =>
          new Promise<{ endToEndMs: number; drawMs: number; points: number }>((res, fail) => {
            const slider = document.querySelector<HTMLInputElement>('#c-smooth')!;
            const t0 = performance.now();
            setTimeout(() => fail(new Error(`no redraw 60 s after the smoothing became ${v}`)), 60_000);
            document.addEventListener(
              'chart-drawn',
              (e) =>
                res({
                  endToEndMs: performance.now() - t0,
                  drawMs: (e as CustomEvent).detail.ms,
                  points: (e as CustomEvent).detail.points,
                }),
              { once: true },
            );
            slider.value = v;
            slider.dispatchEvent(new Event('input', { bubbles: true }));
          }),
        value,
      );
      redraws.push(r);
    }
    const later = redraws.slice(2);
    const chart = {
      runs: ids.length,
      pointsPerRun: Number(o.points),
      fillSeconds: round(fillSeconds),
      pointsDrawn: later[0]!.points,
      redrawEndToEndP50Ms: round(
        pct(
          later.map((r) => r.endToEndMs),
          50,
        ),
      ),
      redrawEndToEndP95Ms: round(
        pct(
          later.map((r) => r.endToEndMs),
          95,
        ),
      ),
      uplotDrawP50Ms: round(
        pct(
          later.map((r) => r.drawMs),
          50,
        ),
        2,
      ),
      uplotDrawP95Ms: round(
        pct(
          later.map((r) => r.drawMs),
          95,
        ),
        2,
      ),
    };
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' },
      browser: `Chromium ${ctx.browser()?.version() ?? '(persistent context)'}`,
      grid,
      fastScroll: scroll,
      chart,
    };
    const out = resolve(o.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await ctx.close();
    await host.close();
    await app.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench --ui: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
