/**
 * Other processes' work on the app's store, followed live. A `camd pretrain --db` or `camd scan
 * --db` started in a terminal on the app's data file writes the same SQLite file as the app; the
 * supervisor's events never tell of it. SQLite's `data_version` changes whenever another
 * connection commits, so the watch looks at it a few times a second (one pragma) and, when it
 * changed, reads every run's and dataset's mark (status, last step, last write; last scan and
 * counts) and publishes those that changed on the `runs` and `datasets` topics: the lists and a
 * run's page follow such a run as they follow the supervisor's. The run the supervisor is working
 * on is left out (its worker's events announce it).
 */
import type { Store } from 'camd-studio/trainer';
import type { EventBus } from '../base/bus.js';
import { runRow } from '../base/run-rows.js';
import type { Datasets } from './datasets.js';

export class StoreWatch {
  private version: number;
  private readonly runs = new Map<string, string>();
  private readonly datasets = new Map<number, string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly data: Datasets,
    /** The run the app's own supervisor is working on (announced by its events). */
    private readonly own: () => string | null,
  ) {
    this.version = store.dataVersion();
    this.remember(false);
  }

  /** Looks every `ms` milliseconds until stopped. */
  start(ms = 500): this {
    this.timer ??= setInterval(() => this.look(), ms);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look: publishes what other processes changed since the last one. */
  look(): void {
    let v: number;
    try {
      v = this.store.dataVersion();
    } catch {
      return; // the store is closing
    }
    if (v === this.version) return;
    this.version = v;
    this.remember(true);
  }

  private remember(publish: boolean): void {
    const own = this.own();
    const runs = new Set<string>();
    for (const m of this.store.runMarks()) {
      runs.add(m.id);
      const mark = `${m.status}|${m.last_step}|${m.updated_at ?? ''}`;
      if (this.runs.get(m.id) === mark) continue;
      this.runs.set(m.id, mark);
      if (!publish || m.id === own) continue;
      const r = runRow(this.store, m.id);
      if (r) this.bus.emit('runs', r);
    }
    for (const id of this.runs.keys()) if (!runs.has(id)) this.runs.delete(id);
    const datasets = new Set<number>();
    for (const d of this.store.datasetMarks()) {
      datasets.add(d.id);
      const mark = `${d.scanned_at ?? ''}|${d.image_count}|${d.bad_count}`;
      if (this.datasets.get(d.id) === mark) continue;
      this.datasets.set(d.id, mark);
      if (publish) this.bus.emit('datasets', { id: d.id, deleted: false, dataset: this.data.get(d.id) });
    }
    for (const id of this.datasets.keys())
      if (!datasets.has(id)) {
        this.datasets.delete(id);
        if (publish) this.bus.emit('datasets', { id, deleted: true, dataset: null });
      }
  }
}
