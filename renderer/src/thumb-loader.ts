/**
 * Thumbnails for the cells in view, and only those. An `<img src>` per cell would ask the host for
 * every cell a fast scroll passes, first in first out, and nothing would ever cancel it: the rows
 * in view would wait behind thousands scrolled past. Here the grid says which images it shows now
 * (`want`, at every scroll); a request for one no longer shown is aborted (the host drops it from
 * its line), at most `inFlight` are asked at once, the images that came into view last are asked
 * first, and what arrived is kept as object URLs (the newest `keep`, older ones revoked) so that
 * scrolling back shows them at once.
 */

/** Fetches one thumbnail; rejects with a ThumbFailure when the host answers an error. */
export type FetchThumb = (id: number, size: number, signal: AbortSignal) => Promise<Blob>;

/** The host's answer to a thumbnail that failed: 409 (superseded, ask again) or an error for good. */
export class ThumbFailure extends Error {
  constructor(readonly status: number) {
    super(`thumbnail request failed (${status})`);
  }
}

export interface ThumbLoaderOptions {
  fetch: FetchThumb;
  /** Told (at most once a frame) when a thumbnail arrived or failed. */
  onChange: () => void;
  inFlight?: number;
  keep?: number;
}

export class ThumbLoader {
  private readonly inFlight: number;
  private readonly keep: number;
  /** Arrived thumbnails, oldest first: id → object URL. */
  private readonly urls = new Map<number, string>();
  private readonly failed = new Set<number>();
  private readonly running = new Map<number, AbortController>();
  /** When each wanted image came into view (a counter): the newest is asked first. */
  private readonly since = new Map<number, number>();
  private seq = 0;
  private size = 256;
  private queue: number[] = [];
  private changeFrame = 0;
  /** Requests sent and aborted since the loader was made (for the benchmark and the tests). */
  readonly counts = { asked: 0, aborted: 0, arrived: 0 };

  constructor(private readonly o: ThumbLoaderOptions) {
    this.inFlight = o.inFlight ?? 4;
    this.keep = o.keep ?? 600;
  }

  /** The object URL of an image's thumbnail, once it arrived. */
  url(id: number): string | undefined {
    return this.urls.get(id);
  }

  /** Whether the host could not make this image's thumbnail. */
  failedFor(id: number): boolean {
    return this.failed.has(id);
  }

  /** The images shown now, in the grid's order, at this size: the rest are cancelled. */
  want(ids: readonly number[], size: number): void {
    if (size !== this.size) {
      this.clear();
      this.size = size;
    }
    const wanted = new Set(ids);
    for (const [id, ctl] of this.running)
      if (!wanted.has(id)) {
        ctl.abort();
        this.running.delete(id);
        this.counts.aborted++;
      }
    for (const id of this.since.keys()) if (!wanted.has(id)) this.since.delete(id);
    const now = this.seq++; // the images that came into view together
    for (const id of ids) if (!this.since.has(id)) this.since.set(id, now);
    const order = new Map(ids.map((id, i) => [id, i]));
    this.queue = ids.filter((id) => !this.urls.has(id) && !this.failed.has(id) && !this.running.has(id));
    // newest in view first; among those that came together, the grid's order
    this.queue.sort((a, b) => this.since.get(b)! - this.since.get(a)! || order.get(a)! - order.get(b)!);
    this.pump();
  }

  /** Forgets every thumbnail (the dataset's index changed: an image may have new content). */
  clear(): void {
    for (const ctl of this.running.values()) ctl.abort();
    this.running.clear();
    for (const u of this.urls.values()) URL.revokeObjectURL(u);
    this.urls.clear();
    this.failed.clear();
    this.since.clear();
    this.queue = [];
  }

  dispose(): void {
    this.clear();
    if (this.changeFrame) cancelAnimationFrame(this.changeFrame);
  }

  private pump(): void {
    while (this.running.size < this.inFlight && this.queue.length) {
      const id = this.queue.shift()!;
      if (this.urls.has(id) || this.running.has(id)) continue;
      this.load(id);
    }
  }

  private load(id: number): void {
    const ctl = new AbortController();
    this.running.set(id, ctl);
    this.counts.asked++;
    const size = this.size;
    this.o.fetch(id, size, ctl.signal).then(
      (blob) => {
        if (this.running.get(id) !== ctl) return; // aborted, or cleared meanwhile
        this.running.delete(id);
        this.counts.arrived++;
        this.remember(id, URL.createObjectURL(blob));
        this.changed();
        this.pump();
      },
      (e: unknown) => {
        if (this.running.get(id) !== ctl) return;
        this.running.delete(id);
        // superseded by other requests at the host: asked again if it is still in view
        if (e instanceof ThumbFailure && e.status === 409) {
          if (this.since.has(id)) this.queue.push(id);
        } else {
          this.failed.add(id);
          this.changed();
        }
        this.pump();
      },
    );
  }

  private remember(id: number, url: string): void {
    this.urls.set(id, url);
    for (const [old, u] of this.urls) {
      if (this.urls.size <= this.keep) break;
      if (this.since.has(old)) continue; // in view: kept
      URL.revokeObjectURL(u);
      this.urls.delete(old);
    }
  }

  private changed(): void {
    if (this.changeFrame) return;
    this.changeFrame = requestAnimationFrame(() => {
      this.changeFrame = 0;
      this.o.onChange();
    });
  }
}
