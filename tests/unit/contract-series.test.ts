// The comparison's curves leave the host checked against the contract: their number columns are
// checked in one loop (electron/common/contract.ts NumberColumn), and must accept and refuse exactly
// what zod's own z.array(z.number()) accepts and refuses.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Series } from '../../electron/common/contract.js';

const reference = z.object({
  run: z.string().min(1).max(64),
  name: z.string(),
  total: z.number().int(),
  x: z.array(z.number()),
  y: z.array(z.number()),
  smoothed: z.array(z.number()),
});

const series = (y: unknown): unknown => ({
  run: 'r1',
  name: 'loss',
  total: 3,
  x: [1, 2, 3],
  y,
  smoothed: [0.5, 0.4, 0.3],
});

describe('a series of the contract', () => {
  it('its number columns take and refuse what z.array(z.number()) does', () => {
    const hole: number[] = [1, 2, 3];
    delete hole[1];
    const columns: unknown[] = [
      [0.5, 0.25, 1e-300],
      [],
      [-0, 5e-324, Number.MAX_VALUE],
      [1, NaN, 3],
      [1, Infinity, 3],
      [-Infinity],
      [1, '2', 3],
      [1, null, 3],
      [1, undefined],
      hole,
      'not an array',
      { 0: 1, length: 1 },
      new Float64Array([1, 2]),
      null,
    ];
    for (const y of columns) {
      const ours = Series.safeParse(series(y));
      const zods = reference.safeParse(series(y));
      expect(ours.success, `y = ${String(y)}`).toBe(zods.success);
      if (!ours.success) expect(ours.error.issues[0]!.path).toEqual(['y']);
    }
    // what passes is handed on as it came
    const y = [0.5, 0.25, 0.125];
    const r = Series.parse(series(y)) as { y: number[] };
    expect(r.y).toEqual(y);
  });

  it('a NaN at any position of a long column is refused', () => {
    const long = Array.from({ length: 2_000 }, (_, i) => Math.sin(i));
    expect(Series.safeParse(series(long)).success).toBe(true);
    for (const at of [0, 999, 1_999]) {
      const bad = long.slice();
      bad[at] = NaN;
      expect(Series.safeParse(series(bad)).success).toBe(false);
    }
  });
});
