/**
 * Background jobs of the services (dataset scans, model predictions, label curves): each has a phase and done/total for a progress
 * bar, can be stopped, and is published on the `jobs` topic as it goes (at most ten times a second,
 * and always at a phase change and at the end). Jobs live in memory; what they produce is in the store.
 */
import { randomUUID } from 'node:crypto';
import type { Job } from '../common/contract.js';
import type { EventBus } from '../base/bus.js';
import { NotFound } from '../base/errors.js';

export type Report = (phase: string, done: number, total: number) => void;
/** A job's work: its message at the end (and what it produced, for jobs whose result the view shows). */
export type JobWork = (
  report: Report,
  signal: AbortSignal,
) => Promise<string | null | { message: string | null; result: unknown }>;

export class Jobs {
  private readonly jobs = new Map<string, { job: Job; ctl: AbortController; last: number }>();

  constructor(private readonly bus: EventBus) {}

  start(kind: Job['kind'], dataset: number | null, work: JobWork): Job {
    const ctl = new AbortController();
    const job: Job = {
      id: randomUUID(),
      kind,
      dataset,
      status: 'running',
      phase: 'starting',
      done: 0,
      total: 0,
      message: null,
      result: null,
      started_at: new Date().toISOString(),
      finished_at: null,
    };
    const entry = { job, ctl, last: 0 };
    this.jobs.set(job.id, entry);
    this.bus.emit('jobs', { ...job });
    const report: Report = (phase, done, total) => {
      const changed = phase !== job.phase;
      Object.assign(job, { phase, done, total });
      const now = Date.now();
      if (changed || done === total || now - entry.last >= 100) {
        entry.last = now;
        this.bus.emit('jobs', { ...job });
      }
    };
    void work(report, ctl.signal).then(
      (out) => {
        if (out !== null && typeof out === 'object') job.result = out.result;
        this.finish(
          job,
          ctl.signal.aborted ? 'stopped' : 'done',
          out !== null && typeof out === 'object' ? out.message : out,
        );
      },
      (e: unknown) => this.finish(job, 'failed', e instanceof Error ? e.message : String(e)),
    );
    return { ...job };
  }

  private finish(job: Job, status: Job['status'], message: string | null): void {
    Object.assign(job, { status, message, finished_at: new Date().toISOString() });
    this.bus.emit('jobs', { ...job });
  }

  list(): Job[] {
    return [...this.jobs.values()].map((e) => ({ ...e.job }));
  }

  /** The running job of a dataset, if any. */
  runningFor(dataset: number): Job | null {
    for (const e of this.jobs.values())
      if (e.job.dataset === dataset && e.job.status === 'running') return { ...e.job };
    return null;
  }

  stop(id: string): Job {
    const e = this.jobs.get(id);
    if (!e) throw new NotFound(`job ${id}`);
    e.ctl.abort();
    return { ...e.job };
  }

  /** Resolves when the job has ended (for callers that must wait, and for tests). */
  async settled(id: string, pollMs = 20): Promise<Job> {
    for (;;) {
      const e = this.jobs.get(id);
      if (!e) throw new NotFound(`job ${id}`);
      if (e.job.status !== 'running') return { ...e.job };
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}
