/**
 * Metric series for the curves: each (run, name) series is read from the store once and kept in
 * memory, then only its new points are read (a run that rewrote its tail after a resume is read
 * again whole). Smoothing runs over the full series and only then is it downsampled
 * (series.ts), on the x-axis asked for: step, epoch or wall time since the run's first point.
 */
import type { Store } from 'camd-studio/trainer';
import type { Series } from '../common/contract.js';
import { SeriesQuery } from '../common/contract.js';
import { debiasedEma, minMaxIndices } from './series.js';
import type { z } from 'zod';

interface Cached {
  step: number[];
  epoch: (number | null)[];
  t: (number | null)[];
  y: number[];
}

const MAX_CACHED_SERIES = 400;

export class Metrics {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly store: Store) {}

  names(runs: readonly string[]): string[] {
    return this.store.db.prepare(`SELECT DISTINCT name FROM metrics WHERE run_id IN (${runs.map(() => '?').join(',')}) ORDER BY name`).pluck().all(...runs) as string[];
  }

  private load(run: string, name: string): Cached {
    const key = `${run}\u0000${name}`;
    let c = this.cache.get(key);
    const db = this.store.db;
    if (c && c.step.length) {
      // still the same prefix? (a resumed run replays from its checkpoint and may rewrite later points)
      const last = c.step[c.step.length - 1]!;
      const n = db.prepare('SELECT count(*) FROM metrics WHERE run_id = ? AND name = ? AND step <= ?').pluck().get(run, name, last) as number;
      if (n !== c.step.length) c = undefined;
    }
    if (!c) {
      c = { step: [], epoch: [], t: [], y: [] };
      if (this.cache.size >= MAX_CACHED_SERIES) this.cache.delete(this.cache.keys().next().value!);
    }
    const from = c.step.length ? c.step[c.step.length - 1]! : -Infinity;
    const rows = db.prepare('SELECT step, epoch, t, value FROM metrics WHERE run_id = ? AND name = ? AND step > ? ORDER BY step').raw().all(run, name, from === -Infinity ? -1 : from) as [number, number | null, number | null, number][];
    for (const [step, epoch, t, v] of rows) {
      c.step.push(step);
      c.epoch.push(epoch);
      c.t.push(t);
      c.y.push(v);
    }
    this.cache.set(key, c);
    return c;
  }

  series(q: z.input<typeof SeriesQuery>): Series[] {
    const p = SeriesQuery.parse(q);
    const out: Series[] = [];
    for (const run of p.runs) {
      for (const name of p.names) {
        const c = this.load(run, name);
        if (c.step.length === 0) continue;
        // x of each point; points without an x on this axis (time of points recorded before schema 3) are left out
        let idx = Array.from({ length: c.step.length }, (_, i) => i);
        let xs: number[];
        if (p.x === 'step') xs = c.step;
        else if (p.x === 'epoch') {
          idx = idx.filter((i) => c.epoch[i] !== null);
          xs = c.epoch as number[];
        } else {
          idx = idx.filter((i) => c.t[i] !== null);
          const t0 = idx.length ? c.t[idx[0]!]! : 0;
          xs = c.t.map((t) => (t === null ? NaN : (t - t0) / 1000));
        }
        const y = idx.length === c.y.length ? c.y : idx.map((i) => c.y[i]!);
        const sm = debiasedEma(y, p.smoothing);
        const keep = minMaxIndices(y, p.maxPoints);
        out.push({ run, name, total: c.y.length, x: keep.map((k) => xs[idx[k]!]!), y: keep.map((k) => y[k]!), smoothed: keep.map((k) => sm[k]!) });
      }
    }
    return out;
  }

  /** Forgets cached series of a run (deleted). */
  drop(run: string): void {
    for (const k of [...this.cache.keys()]) if (k.startsWith(`${run}\u0000`)) this.cache.delete(k);
  }
}
