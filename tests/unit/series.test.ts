// Curves: debiased EMA on the full series, then min/max-preserving downsampling; exit words.
import { describe, expect, it } from 'vitest';
import { debiasedEma, debiasedEmaAt, minMaxIndices } from '../../electron/services/series.js';
import { exitInWords } from '../../electron/supervisor/exit-words.js';

describe('debiased EMA', () => {
  it('matches TensorBoard: the first value is the value; a constant stays constant; w = 0 is no smoothing', () => {
    const y = [3, 5, 4, 6, 8];
    const s = debiasedEma(y, 0.6);
    expect(s[0]).toBeCloseTo(3, 12);
    // by hand: last = 0.6·last + 0.4·y, divided by 1 − 0.6^n
    let last = 0;
    y.forEach((v, i) => {
      last = 0.6 * last + 0.4 * v;
      expect(s[i]).toBeCloseTo(last / (1 - 0.6 ** (i + 1)), 12);
    });
    expect([...debiasedEma([2, 2, 2, 2], 0.9)].every((v) => Math.abs(v - 2) < 1e-12)).toBe(true);
    expect([...debiasedEma(y, 0)]).toEqual(y);
    const withNaN = debiasedEma([1, NaN, 3], 0.5);
    expect(Number.isNaN(withNaN[1]!)).toBe(true);
    expect(withNaN[2]).toBeCloseTo((0.5 * 0.5 + 0.5 * 3) / (1 - 0.25), 12); // the NaN is skipped, not propagated
  });

  it('kept only where a chart draws: the same values as the whole series at those indices, NaN and w = 0 included', () => {
    const y = Array.from({ length: 5_000 }, (_, i) => (i % 997 === 5 ? NaN : Math.cos(i / 40) + i / 1000));
    for (const w of [0, 0.6, 0.95]) {
      const whole = debiasedEma(y, w);
      const at = minMaxIndices(y, 300);
      const kept = debiasedEmaAt(y, w, at);
      expect(kept).toHaveLength(at.length);
      at.forEach((i, k) => expect(Object.is(kept[k], whole[i]) || kept[k] === whole[i]).toBe(true));
    }
    expect(debiasedEmaAt(y, 0.6, [])).toEqual([]);
    expect(debiasedEmaAt([1, 2, 3], 0.5, [2, 2])).toEqual([
      debiasedEma([1, 2, 3], 0.5)[2],
      debiasedEma([1, 2, 3], 0.5)[2],
    ]);
  });

  it('a long series never leaves normal doubles (issue #35): the same values as Math.pow, zeros stay exactly 0', () => {
    const n = 100_000;
    const y = Array.from({ length: n }, (_, i) => (i < 50_000 ? Math.sin(i / 300) : 0)); // a metric that turns to 0
    for (const w of [0.6, 0.9, 0.999]) {
      const s = debiasedEma(y, w);
      // the reference with pow and no flushing, compared where it is a normal number
      let last = 0;
      let worst = 0;
      for (let i = 0; i < n; i++) {
        last = last * w + (1 - w) * y[i]!;
        const ref = last / (1 - w ** (i + 1));
        if (Math.abs(ref) > 1e-290) worst = Math.max(worst, Math.abs(s[i]! - ref) / Math.abs(ref));
        else expect(Math.abs(s[i]!)).toBeLessThan(1e-290);
      }
      expect(worst).toBeLessThan(1e-12);
      // no subnormal value anywhere, and the tail of zeros smooths to exactly 0 once it has decayed
      expect(s.every((v) => v === 0 || Math.abs(v) >= 2.2250738585072014e-308)).toBe(true);
      if (w < 0.99) expect(s[n - 1]).toBe(0);
    }
  });
});

describe('min/max downsampling', () => {
  it('keeps the first and last points and every spike, in order, within the budget', () => {
    const n = 100_000;
    const y = Array.from({ length: n }, (_, i) => Math.sin(i / 5000));
    y[31_337] = 50; // a spike
    y[77_777] = -50; // a dip
    const keep = minMaxIndices(y, 2000);
    expect(keep.length).toBeLessThanOrEqual(2000);
    expect(keep[0]).toBe(0);
    expect(keep.at(-1)).toBe(n - 1);
    expect(keep).toContain(31_337);
    expect(keep).toContain(77_777);
    expect(keep.every((v, i) => i === 0 || v > keep[i - 1]!)).toBe(true);
    expect(minMaxIndices([1, 2, 3], 10)).toEqual([0, 1, 2]);
  });

  it('smoothing before downsampling: the smoothed curve at the kept points is the same whatever the budget', () => {
    const y = Array.from({ length: 20_000 }, (_, i) => Math.cos(i / 300) + ((i * 7919) % 13) / 13);
    const s = debiasedEma(y, 0.95);
    const again = debiasedEma(y, 0.95);
    for (const budget of [200, 2000]) {
      const keep = minMaxIndices(y, budget);
      // what the service returns at those x: the value of the full-series EMA
      for (const k of keep) expect(s[k]).toBe(again[k]);
    }
    // whereas smoothing the downsampled points (the tensorboard#610 mistake) gives another curve
    const keep = minMaxIndices(y, 200);
    const wrong = debiasedEma(
      keep.map((k) => y[k]!),
      0.95,
    );
    const diff = Math.max(...keep.map((k, j) => Math.abs(wrong[j]! - s[k]!)));
    expect(diff).toBeGreaterThan(0.1);
  });
});

describe('exit words', () => {
  it('say how a worker ended, in terms a user acts on', () => {
    expect(exitInWords(0, null)).toBeNull();
    expect(exitInWords(null, 'SIGKILL')).toBe(
      'the trainer process was killed (SIGKILL): most often the system ran out of memory',
    );
    expect(exitInWords(137, null)).toMatch(/killed \(SIGKILL\)/);
    expect(exitInWords(139, null)).toMatch(/segmentation fault/);
    expect(exitInWords(4, null)).toMatch(/disk is full/);
    expect(exitInWords(3, null)).toMatch(/diverged/);
    expect(exitInWords(9, 'SIGSEGV', 'crashed')).toBe('the trainer process crashed (exit code 9)');
    expect(exitInWords(null, null, 'oom')).toBe('the trainer process ran out of memory');
    expect(exitInWords(42, null)).toBe('the trainer process exited with code 42');
  });
});
