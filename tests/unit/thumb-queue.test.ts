// The host's line of thumbnails to make: newest first, bounded, a request that went away leaves
// it, background work only when nothing else waits and not while paused.
import { describe, expect, it } from 'vitest';
import { ThumbQueue } from '../../electron/services/thumb-queue.js';

/** A piece of work that waits until released, recording when it starts. */
function gate(started: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((ok) => (release = ok));
  return { work: async () => (started.push(name), await done, name), release };
}
const tick = () => new Promise((ok) => setTimeout(ok, 5));

describe('ThumbQueue', () => {
  it('makes the newest request first; past its bound the oldest waiting are refused as superseded', async () => {
    const q = new ThumbQueue({ slots: 1, waiting: 3 });
    const started: string[] = [];
    const gates = ['a', 'b', 'c', 'd', 'e'].map((n) => gate(started, n));
    const results = gates.map((g) =>
      q.run(g.work).then(
        (v) => v,
        (e: Error) => `refused: ${e.message}`,
      ),
    );
    await tick();
    expect(started).toEqual(['a']); // one slot; b..e wait, and only 3 may
    for (const g of gates) g.release();
    expect(await Promise.all(results)).toEqual([
      'a',
      'refused: superseded by newer thumbnail requests; ask again',
      'c',
      'd',
      'e',
    ]);
    expect(started).toEqual(['a', 'e', 'd', 'c']); // newest first
    expect(q.counts).toMatchObject({ made: 4, superseded: 1 });
  });

  it('a request whose client went away leaves the line and is never made', async () => {
    const q = new ThumbQueue({ slots: 1 });
    const started: string[] = [];
    const a = gate(started, 'a');
    const b = gate(started, 'b');
    const first = q.run(a.work);
    const ctl = new AbortController();
    const second = q.run(b.work, ctl.signal).catch((e: Error) => e.name);
    ctl.abort();
    expect(await second).toBe('AbortError');
    a.release();
    expect(await first).toBe('a');
    await tick();
    expect(started).toEqual(['a']);
    expect(q.counts.abandoned).toBe(1);
    expect(await q.run(async () => 'x', AbortSignal.abort()).catch((e: Error) => e.name)).toBe('AbortError');
  });

  it('background work runs one at a time, only when no request waits or runs, and waits while paused', async () => {
    let paused = true;
    const q = new ThumbQueue({ slots: 1, paused: () => paused, quietMs: 0 });
    const order: string[] = [];
    q.later([async () => void order.push('bg1'), async () => void order.push('bg2')]);
    await tick();
    expect(order).toEqual([]); // paused (a run trains)
    paused = false;
    const fg = gate(order, 'fg');
    const made = q.run(fg.work); // a request: it goes first, the background waits for it
    await tick();
    expect(order).toEqual(['fg']);
    fg.release();
    await made;
    await tick();
    expect(order).toEqual(['fg', 'bg1', 'bg2']);
    expect(q.busy).toBe(false);
    expect(q.counts.background).toBe(2);
  });

  it('background work waits a quiet moment after the last request (a grid being scrolled)', async () => {
    const q = new ThumbQueue({ quietMs: 150 });
    const order: string[] = [];
    await q.run(async () => void order.push('asked'));
    q.later([async () => void order.push('ahead')]);
    await new Promise((ok) => setTimeout(ok, 60));
    expect(order).toEqual(['asked']);
    await new Promise((ok) => setTimeout(ok, 200));
    expect(order).toEqual(['asked', 'ahead']);
  });

  it('any other use of the app holds background work back as a request does (a chart being redrawn)', async () => {
    const q = new ThumbQueue({ quietMs: 150 });
    const order: string[] = [];
    q.activity();
    q.later([async () => void order.push('ahead')]);
    for (let k = 0; k < 4; k++) {
      await new Promise((ok) => setTimeout(ok, 60));
      q.activity(); // still in use: 240 ms in all, never 150 ms quiet
    }
    expect(order).toEqual([]);
    await new Promise((ok) => setTimeout(ok, 250));
    expect(order).toEqual(['ahead']);
  });
});
