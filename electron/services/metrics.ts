/**
 * Metric series for the curves: each (run, name) series is read from the store once and kept in
 * memory as typed arrays, then only its new points are read. A run that rewrote its tail after a
 * resume (the trainer replays from its checkpoint) is noticed by the point at the last cached step
 * (gone or changed) and read again whole. Smoothing runs over the full series and only then is it
 * downsampled (series.ts); x values are made for the kept points only: step, epoch, or wall time
 * since the run's first point.
 */
import type { Store } from 'camd-studio/trainer';
import type { Series } from '../common/contract.js';
import type { SeriesQuery } from '../common/contract.js';
import { debiasedEmaAt, minMaxIndices } from './series.js';
import type { z } from 'zod';

/** A series in columns; NaN where the store has null (epoch or time of old points). */
class Columns {
  n = 0;
  step = new Float64Array(1024);
  epoch = new Float64Array(1024);
  t = new Float64Array(1024);
  y = new Float64Array(1024);
  /** Points without an epoch / a time. */
  noEpoch = 0;
  noTime = 0;

  push(step: number, epoch: number | null, t: number | null, y: number): void {
    if (this.n === this.step.length) {
      for (const k of ['step', 'epoch', 't', 'y'] as const) {
        const a = new Float64Array(this.n * 2);
        a.set(this[k]);
        this[k] = a;
      }
    }
    this.step[this.n] = step;
    this.epoch[this.n] = epoch ?? NaN;
    this.t[this.n] = t ?? NaN;
    this.y[this.n] = y;
    if (epoch === null) this.noEpoch++;
    if (t === null) this.noTime++;
    this.n++;
  }
}

const MAX_CACHED_SERIES = 400;

export class Metrics {
  private readonly cache = new Map<string, Columns>();

  constructor(private readonly store: Store) {}

  names(runs: readonly string[]): string[] {
    return this.store.metricNames(runs);
  }

  private load(run: string, name: string): Columns {
    const key = `${run}\u0000${name}`;
    let c = this.cache.get(key);
    if (c?.n) {
      const lastStep = c.step[c.n - 1]!;
      const now = this.store.metricValueAt(run, name, lastStep);
      if (now === undefined || now !== c.y[c.n - 1]) c = undefined; // rewritten since: read it again
    }
    if (!c) {
      c = new Columns();
      if (this.cache.size >= MAX_CACHED_SERIES) this.cache.delete(this.cache.keys().next().value!);
    }
    const from = c.n ? c.step[c.n - 1]! : Number.MIN_SAFE_INTEGER;
    for (const [step, epoch, t, v] of this.store.metricPointsAfter(run, name, from)) c.push(step, epoch, t, v);
    this.cache.delete(key); // most recently used last
    this.cache.set(key, c);
    return c;
  }

  /** The series of a query the API boundary has validated (its defaults filled). */
  series(p: z.output<typeof SeriesQuery>): Series[] {
    const out: Series[] = [];
    for (const run of p.runs) {
      for (const name of p.names) {
        const c = this.load(run, name);
        if (c.n === 0) continue;
        const xcol = p.x === 'step' ? c.step : p.x === 'epoch' ? c.epoch : c.t;
        const missing = p.x === 'step' ? 0 : p.x === 'epoch' ? c.noEpoch : c.noTime;
        // points without an x on this axis (e.g. the time of points recorded before schema 3) are left out
        let y: Float64Array = c.y.subarray(0, c.n);
        let x: Float64Array = xcol.subarray(0, c.n);
        if (missing > 0) {
          const keep: number[] = [];
          for (let i = 0; i < c.n; i++) if (!Number.isNaN(xcol[i]!)) keep.push(i);
          y = Float64Array.from(keep, (i) => c.y[i]!);
          x = Float64Array.from(keep, (i) => xcol[i]!);
        }
        if (y.length === 0) continue;
        const kept = minMaxIndices(y, p.maxPoints);
        const smoothed = debiasedEmaAt(y, p.smoothing, kept); // over the whole series, kept where drawn
        const x0 = p.x === 'time' ? x[0]! : 0;
        const scale = p.x === 'time' ? 1 / 1000 : 1;
        out.push({
          run,
          name,
          total: c.n,
          x: kept.map((k) => (x[k]! - x0) * scale),
          y: kept.map((k) => y[k]!),
          smoothed,
        });
      }
    }
    return out;
  }

  /** Forgets cached series of a run (deleted). */
  drop(run: string): void {
    for (const k of [...this.cache.keys()]) if (k.startsWith(`${run}\u0000`)) this.cache.delete(k);
  }
}
