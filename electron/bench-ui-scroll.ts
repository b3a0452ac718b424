/**
 * The grid's fast scroll for `npm run bench -- --ui` (bench-ui.ts): a dataset whose thumbnails are
 * not made yet (the host's thumbnail folder emptied, the browser's cache cleared, the page loaded
 * afresh before each pass), scrolled a fixed number of pixels every animation frame. Measured only
 * through the DOM and the host's `images.thumb`, so it holds whatever way the grid loads its images:
 *   - frame times p50/p95/max, long tasks, the most DOM nodes seen, the JS heap at the end;
 *   - after the scroll stops, the time until every cell in view (`.thumbgrid .thumb`) shows its
 *     image (`img` drawn) or says it is unreadable (`.bad`);
 *   - the thumbnails the host was asked for (`images.thumb`) and made during the scroll and after it
 *     stopped (within 60 s), and those refused or given up;
 *   - right after a second of fast scrolling, the time from a click on a cell in view to the full
 *     image drawn in the image dialog, `opens` times (one click is one sample: they varied from 46
 *     to 157 ms at 100 000 images), with their median and the slowest.
 */
import { rmSync } from 'node:fs';
import type { CDPSession, Page } from 'playwright-core';
import type { App } from './services/app.js';

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

export const FAST_SCROLL_GOALS = { frameP95Ms: 33, thumbnailsInViewAfterStopMs: 1000, imageOpenMs: 100 };

/**
 * Calls of the host's `images.thumb`: every thumbnail the grid asks for reaches it unless the
 * browser had it. With the host's thumbnail folder emptied, a call that succeeds made its thumbnail
 * (or was served one a moment ago made for the same image); one that fails was refused or given up.
 */
interface ThumbCalls {
  started: number;
  ok: number;
  failed: number;
  active: number;
}

function countThumbCalls(app: App): ThumbCalls {
  const c: ThumbCalls = { started: 0, ok: 0, failed: 0, active: 0 };
  const thumb = app.images.thumb.bind(app.images);
  app.images.thumb = async (...args: Parameters<typeof thumb>) => {
    c.started++;
    c.active++;
    try {
      const webp = await thumb(...args);
      c.ok++;
      return webp;
    } catch (e) {
      c.failed++;
      throw e;
    } finally {
      c.active--;
    }
  };
  return c;
}

interface ScrollResult {
  deltas: number[];
  longTasks: number[];
  maxDomNodes: number;
  reachedBottom: boolean;
  scrolledPx: number;
  /** performance.now() in the page when the last frame was drawn. */
  stoppedAt: number;
}

/** In the page: `px` more every animation frame from the top, until the bottom or `maxMs`. */
function scrollInPage({ px, maxMs }: { px: number; maxMs: number }): Promise<ScrollResult> {
  return (async () => {
    const el = document.querySelector<HTMLElement>('.thumbgrid')!;
    const frame = () => new Promise((r) => requestAnimationFrame(() => r(null)));
    const longTasks: number[] = [];
    const seen = (l: PerformanceObserverEntryList) => {
      for (const e of l.getEntries()) longTasks.push(e.duration);
    };
    const obs = new PerformanceObserver(seen);
    obs.observe({ type: 'longtask' });
    el.scrollTop = 0;
    await frame();
    const deltas: number[] = [];
    let maxDomNodes = 0;
    const t0 = performance.now();
    let last = t0;
    let reachedBottom = false;
    for (;;) {
      el.scrollTop += px;
      await frame();
      const now = performance.now();
      deltas.push(now - last);
      last = now;
      maxDomNodes = Math.max(maxDomNodes, document.getElementsByTagName('*').length);
      reachedBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - 1;
      if (reachedBottom || now - t0 >= maxMs) break;
    }
    seen({ getEntries: () => obs.takeRecords() } as PerformanceObserverEntryList);
    obs.disconnect();
    return { deltas, longTasks, maxDomNodes, reachedBottom, scrolledPx: el.scrollTop, stoppedAt: last };
  })();
}

/**
 * In the page: from `since`, until every cell whose picture is in view shows its image or `.bad`
 * (a cell of which only the caption shows counts as out of view): the ms (null at `timeoutMs`) and the cells.
 */
function settleInPage({ since, timeoutMs }: { since: number; timeoutMs: number }) {
  return (async () => {
    const grid = document.querySelector<HTMLElement>('.thumbgrid')!;
    const drawn = (c: Element) =>
      c.querySelector('.bad') !== null ||
      Array.from(c.querySelectorAll('img')).some((i) => i.complete && i.naturalWidth > 0);
    for (;;) {
      const view = grid.getBoundingClientRect();
      const cells = Array.from(grid.querySelectorAll('.thumb')).filter((c) => {
        const r = (c.querySelector('.frame') ?? c).getBoundingClientRect();
        return r.bottom > view.top && r.top < view.bottom && r.right > view.left && r.left < view.right;
      });
      const pending = cells.filter((c) => !drawn(c)).length;
      const ms = performance.now() - since;
      if (cells.length > 0 && pending === 0) return { ms, cells: cells.length, pending };
      if (ms > timeoutMs) return { ms: null, cells: cells.length, pending };
      await new Promise((r) => requestAnimationFrame(() => r(null)));
    }
  })();
}

/** In the page: click the cell nearest the middle of the view (waiting for one to be a button), time the full image drawn. */
function openInPage(timeoutMs: number) {
  return (async () => {
    const frame = () => new Promise((r) => requestAnimationFrame(() => r(null)));
    const grid = document.querySelector<HTMLElement>('.thumbgrid')!;
    const t0 = performance.now();
    let button: HTMLButtonElement | undefined;
    while (!button) {
      const view = grid.getBoundingClientRect();
      const mid = (view.top + view.bottom) / 2;
      const dist = (b: Element) =>
        Math.abs((b.getBoundingClientRect().top + b.getBoundingClientRect().bottom) / 2 - mid);
      button = Array.from(grid.querySelectorAll<HTMLButtonElement>('button.thumb'))
        .filter((b) => b.getBoundingClientRect().top >= view.top && b.getBoundingClientRect().bottom <= view.bottom)
        .sort((a, b) => dist(a) - dist(b))[0];
      if (!button) {
        if (performance.now() - t0 > timeoutMs) return { cellMs: null, openMs: null };
        await frame();
      }
    }
    const t1 = performance.now();
    button.click();
    for (;;) {
      const img = document.querySelector<HTMLImageElement>('dialog[open] .pic img');
      if (img?.complete && img.naturalWidth > 0) {
        const openMs = performance.now() - t1;
        // where the time went: until the image's request started (the dialog, the image's details), and the request
        const file = performance
          .getEntriesByType('resource')
          .filter((e) => e.name.endsWith('/file') && e.startTime >= t1)
          .at(-1) as PerformanceResourceTiming | undefined;
        return {
          cellMs: t1 - t0,
          openMs,
          fileRequestStartMs: file ? file.startTime - t1 : null,
          fileRequestMs: file ? file.responseEnd - file.startTime : null,
        };
      }
      if (performance.now() - t1 > timeoutMs) return { cellMs: t1 - t0, openMs: null };
      await frame();
    }
  })();
}

/** The page's JS heap in MB: performance.memory where Chromium has it, else the DevTools protocol's metrics. */
async function heapMB(page: Page, cdp: CDPSession): Promise<number> {
  const used = await page.evaluate(
    () => (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize,
  );
  if (used !== undefined) return round(used / 1048576);
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  return round((metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? Number.NaN) / 1048576);
}

export interface FastScrollOptions {
  page: Page;
  app: App;
  /** The host's address (its cookie already set on the page). */
  base: string;
  dataset: number;
  /** How long the 150 px-a-frame pass scrolls (unless it reaches the bottom first). */
  scrollSeconds: number;
  /** How many times an image is opened after a second of fast scrolling (each from a cold start). */
  opens: number;
}

/** The fast-scroll passes and the image opened right after one. */
export async function fastScroll(o: FastScrollOptions) {
  const { page, app } = o;
  const cdp = await page.context().newCDPSession(page);
  const calls = countThumbCalls(app);
  const zero = () => Object.assign(calls, { started: 0, ok: 0, failed: 0 });
  /** No thumbnail made or cached anywhere: the host's folder, the browser's cache, the page's memory. */
  const cold = async () => {
    rmSync(app.paths.thumbs, { recursive: true, force: true });
    await cdp.send('Network.clearBrowserCache');
    await page.goto('about:blank');
    await page.goto(`${o.base}/#/datasets/${o.dataset}`);
    await page.waitForSelector('.thumbgrid button.thumb', { timeout: 120_000 });
  };
  /** Until the host has no thumbnail left to make (at most `ms`): how long that took. */
  const hostIdle = async (ms: number) => {
    const t0 = performance.now();
    while (calls.active > 0 && performance.now() - t0 < ms) await new Promise((r) => setTimeout(r, 10));
    return performance.now() - t0;
  };

  const pass = async (px: number, maxSeconds: number) => {
    process.stderr.write(`bench --ui: ${new Date().toISOString().slice(11, 19)} ${px} px a frame\n`);
    zero();
    await cold();
    const before = { ...calls };
    const s = await page.evaluate(scrollInPage, { px, maxMs: maxSeconds * 1000 });
    const atStop = { ...calls };
    process.stderr.write(`bench --ui: ${new Date().toISOString().slice(11, 19)} stopped; waiting for the thumbnails\n`);
    const settled = await page.evaluate(settleInPage, { since: s.stoppedAt, timeoutMs: 60_000 });
    const idleMs = await hostIdle(60_000);
    return {
      pxPerFrame: px,
      frames: s.deltas.length,
      seconds: round(s.deltas.reduce((a, b) => a + b, 0) / 1000, 2),
      scrolledPx: Math.round(s.scrolledPx),
      reachedBottom: s.reachedBottom,
      frameP50Ms: round(pct(s.deltas, 50)),
      frameP95Ms: round(pct(s.deltas, 95)),
      frameMaxMs: round(Math.max(...s.deltas)),
      longTasks: s.longTasks.length,
      longTasksMs: round(s.longTasks.reduce((a, b) => a + b, 0)),
      maxDomNodes: s.maxDomNodes,
      jsHeapMB: await heapMB(page, cdp),
      cellsInView: settled.cells,
      thumbnailsInViewAfterStopMs: settled.ms === null ? null : round(settled.ms),
      cellsStillPendingAtTimeout: settled.ms === null ? settled.pending : 0,
      thumbsBeforeScroll: before.ok,
      thumbCallsDuringScroll: atStop.started - before.started,
      thumbsMadeDuringScroll: atStop.ok - before.ok,
      thumbCallsRunningAtStop: atStop.active,
      thumbCallsAfterStop: calls.started - atStop.started,
      thumbsMadeAfterStop: calls.ok - atStop.ok,
      thumbCallsFailed: calls.failed - before.failed,
      hostBusyAfterSettledMs: round(idleMs),
    };
  };

  const topToBottom400 = await pass(400, 600);
  const steady150 = await pass(150, o.scrollSeconds);

  // a second of fast scrolling, then straight to an image: `opens` times, each from a cold start
  const trials = [];
  for (let k = 0; k < o.opens; k++) {
    process.stderr.write(`bench --ui: ${new Date().toISOString().slice(11, 19)} image open ${k + 1}/${o.opens}\n`);
    await cold();
    const s = await page.evaluate(scrollInPage, { px: 400, maxMs: 1000 });
    const atClick = { ...calls };
    const open = await page.evaluate(openInPage, 30_000);
    const duringOpen = calls.started - atClick.started;
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog[open]', { state: 'detached', timeout: 10_000 }).catch(() => undefined);
    await hostIdle(60_000);
    trials.push({
      scrolledPx: Math.round(s.scrolledPx),
      thumbCallsRunningAtClick: atClick.active,
      thumbCallsWhileOpening: duringOpen,
      waitForCellMs: open.cellMs === null ? null : round(open.cellMs),
      imageOpenMs: open.openMs === null ? null : round(open.openMs),
      imageRequestStartedAfterMs:
        'fileRequestStartMs' in open && open.fileRequestStartMs != null ? round(open.fileRequestStartMs) : null,
      imageRequestMs: 'fileRequestMs' in open && open.fileRequestMs != null ? round(open.fileRequestMs) : null,
    });
  }
  // an open that never drew counts as the slowest there can be
  const opens = trials.map((t) => t.imageOpenMs ?? Number.POSITIVE_INFINITY);
  const openAfterFastScroll = {
    pxPerFrame: 400,
    opens: trials.length,
    imageOpenP50Ms: round(pct(opens, 50)),
    imageOpenMaxMs: round(Math.max(...opens)),
    trials,
  };
  await cdp.detach();
  return { goals: FAST_SCROLL_GOALS, topToBottom400, steady150, openAfterFastScroll };
}
