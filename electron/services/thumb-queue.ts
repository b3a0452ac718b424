/**
 * The line thumbnails wait in before they are made. A grid scrolled faster than thumbnails are
 * made asks for far more than it will show: served first in, first out, the rows scrolled past
 * would be made first and the rows in view last. So:
 *  - at most `slots` are made at once;
 *  - the newest request is made first (the rows in view now), and at most `waiting` wait: past
 *    that the oldest is dropped, refused as superseded (the client asks again if it still wants it);
 *  - a request whose client went away (its AbortSignal) leaves the line at once;
 *  - background work (thumbnails made ahead of need after a scan) takes one slot, half the time at
 *    most (each piece is followed by a rest as long as it took), and only when no
 *    request waits or is being made, none came in the last `quietMs` (a grid being scrolled) and
 *    nothing else was asked of the app then either (`activity()`: a chart redrawn, a form filled),
 *    and `paused()` does not say otherwise (a run is training).
 * Work that has started is finished (its thumbnail is cached for the next time).
 */
import { CamdError } from 'camd-studio/trainer';

interface Waiting {
  start: () => void;
  fail: (e: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export interface ThumbQueueOptions {
  /** Thumbnails made at once for requests. */
  slots?: number;
  /** Requests waiting at most; the oldest beyond it is superseded. */
  waiting?: number;
  /** Whether background work must wait (e.g. while a run trains). */
  paused?: () => boolean;
  /** Background work waits this long after the last request or activity (a grid being scrolled). */
  quietMs?: number;
}

export class ThumbQueue {
  private readonly slots: number;
  private readonly limit: number;
  private readonly paused: () => boolean;
  private readonly quietMs: number;
  private lastActivity = -Infinity;
  private readonly line: Waiting[] = [];
  private readonly background: (() => Promise<void>)[] = [];
  private running = 0;
  private backgroundRunning = false;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Counts since start (for the benchmark and the system view). */
  readonly counts = { made: 0, superseded: 0, abandoned: 0, background: 0 };

  constructor(o: ThumbQueueOptions = {}) {
    this.slots = Math.max(1, o.slots ?? 2);
    this.limit = Math.max(1, o.waiting ?? 48);
    this.paused = o.paused ?? (() => false);
    this.quietMs = o.quietMs ?? 1500;
  }

  /** Runs `make` when its turn comes (newest first); rejects when superseded or when `signal` aborts first. */
  run<T>(make: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abandoned());
    this.activity();
    return new Promise<T>((ok, fail) => {
      const w: Waiting = {
        start: () => {
          this.running++;
          make()
            .then(ok, fail)
            .finally(() => {
              this.running--;
              this.counts.made++;
              this.pump();
            });
        },
        fail,
        signal,
        onAbort: () => {
          const i = this.line.indexOf(w);
          if (i < 0) return;
          this.line.splice(i, 1);
          this.counts.abandoned++;
          fail(abandoned());
        },
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      this.line.push(w);
      while (this.line.length > this.limit) {
        const old = this.line.shift()!;
        old.signal?.removeEventListener('abort', old.onAbort);
        this.counts.superseded++;
        old.fail(new CamdError('busy', 'superseded by newer thumbnail requests; ask again'));
      }
      this.pump();
    });
  }

  /** Someone is using the app (any operation asked of it): background work waits `quietMs` from now. */
  activity(): void {
    this.lastActivity = performance.now();
  }

  /** Adds background work (made one at a time, when nothing else waits). */
  later(work: (() => Promise<void>)[]): void {
    this.background.push(...work);
    this.pump();
  }

  /** Forgets the background work not started yet. */
  clearBackground(): void {
    this.background.length = 0;
  }

  /** Background work not started yet. */
  get backlog(): number {
    return this.background.length;
  }

  /** Resolves when nothing is being made (after clearBackground(): when the queue has wound down). */
  async settled(pollMs = 20): Promise<void> {
    while (this.running > 0 || this.backgroundRunning) await new Promise((ok) => setTimeout(ok, pollMs));
  }

  /** Whether anything is being made or waits (requests or background work). */
  get busy(): boolean {
    return this.running > 0 || this.backgroundRunning || this.line.length > 0 || this.background.length > 0;
  }

  /** Requests waiting now. */
  get waitingNow(): number {
    return this.line.length;
  }

  private pump(): void {
    while (this.running < this.slots && this.line.length) {
      const w = this.line.pop()!; // the newest
      w.signal?.removeEventListener('abort', w.onAbort);
      w.start();
    }
    if (this.backgroundRunning || this.running > 0 || this.line.length || !this.background.length) return;
    const quiet = this.lastActivity + this.quietMs - performance.now();
    if (quiet > 0 || this.paused()) {
      // look again a little later: a pause (a training run, the window in use) ends without telling the queue
      this.idleTimer ??= setTimeout(
        () => {
          this.idleTimer = null;
          this.pump();
        },
        quiet > 0 ? quiet + 10 : 1000,
      );
      this.idleTimer.unref();
      return;
    }
    const work = this.background.shift()!;
    this.backgroundRunning = true;
    const started = performance.now();
    void work()
      .catch(() => undefined) // an image that cannot be made now is made (or refused) when asked
      .finally(() => {
        this.counts.background++;
        // gently: as long a rest as the work took, so it takes at most half of one core
        const rest = setTimeout(
          () => {
            this.backgroundRunning = false;
            this.pump();
          },
          Math.min(1000, performance.now() - started),
        );
        rest.unref();
      });
  }
}

function abandoned(): Error {
  const e = new Error('the request went away');
  e.name = 'AbortError';
  return e;
}
