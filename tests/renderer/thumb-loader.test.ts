// @vitest-environment happy-dom
// The grid's thumbnail loader: only the cells in view are asked for, a few at a time, the newest
// in view first; what left the view is aborted; a superseded one is asked again while in view.
import { describe, expect, it } from 'vitest';
import { ThumbFailure, ThumbLoader } from '../../renderer/src/thumb-loader.js';

interface Ask {
  id: number;
  signal: AbortSignal;
  ok: () => void;
  fail: (status: number) => void;
}

function loader(o: { inFlight?: number; keep?: number } = {}) {
  const asks: Ask[] = [];
  let changes = 0;
  const l = new ThumbLoader({
    ...o,
    fetch: (id, _size, signal) =>
      new Promise<Blob>((ok, fail) =>
        asks.push({ id, signal, ok: () => ok(new Blob(['x'])), fail: (s) => fail(new ThumbFailure(s)) }),
      ),
    onChange: () => changes++,
  });
  return { l, asks, changes: () => changes };
}
const settle = () => new Promise((ok) => setTimeout(ok, 30));
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('ThumbLoader', () => {
  it('asks for the cells in view a few at a time, aborts what scrolled away, serves the newest in view first', async () => {
    const { l, asks, changes } = loader({ inFlight: 2 });
    l.want(range(1, 8), 256);
    expect(asks.map((a) => a.id)).toEqual([1, 2]);
    l.want(range(5, 12), 256); // scrolled: 1..4 left the view, 9..12 came in
    expect(asks[0]!.signal.aborted && asks[1]!.signal.aborted).toBe(true);
    expect(asks.slice(2).map((a) => a.id)).toEqual([9, 10]); // the newest in view first
    asks[2]!.ok();
    await settle();
    expect(l.url(9)).toMatch(/^blob:/);
    expect(changes()).toBeGreaterThan(0);
    expect(asks.slice(4).map((a) => a.id)).toEqual([11]);
    asks[0]!.ok(); // an aborted answer arriving late is dropped
    await settle();
    expect(l.url(1)).toBeUndefined();
    expect(l.counts).toMatchObject({ aborted: 2, arrived: 1 });
  });

  it('a thumbnail the host superseded is asked again while in view; one it cannot make is not', async () => {
    const { l, asks } = loader({ inFlight: 1 });
    l.want([1, 2], 256);
    asks[0]!.fail(409);
    await settle();
    expect(asks.map((a) => a.id)).toEqual([1, 2]);
    asks[1]!.fail(404);
    await settle();
    expect(asks.map((a) => a.id)).toEqual([1, 2, 1]);
    asks[2]!.ok();
    await settle();
    expect(l.url(1)).toMatch(/^blob:/);
    expect(l.failedFor(2)).toBe(true);
    l.want([1, 2], 256);
    expect(asks.length).toBe(3); // neither asked again: one arrived, one failed
  });

  it('keeps the newest thumbnails that arrived, never one in view; a new size or clear() starts again', async () => {
    const { l, asks } = loader({ inFlight: 10, keep: 3 });
    for (const id of [1, 2, 3, 4, 5]) {
      l.want([id], 256);
      asks.at(-1)!.ok();
      await settle();
    }
    expect([1, 2, 3, 4, 5].map((id) => l.url(id) !== undefined)).toEqual([false, false, true, true, true]);
    l.want([4, 5], 128);
    expect(l.url(5)).toBeUndefined();
    expect(asks.slice(-2).map((a) => a.id)).toEqual([4, 5]);
  });
});
