/**
 * The run supervisor: runs are trainer worker processes, one at a time, the others queued.
 *
 *   created → queued → running → done | failed | interrupted
 *                        ├─ pause → pausing → paused   (checkpoint written; resume continues)
 *                        └─ stop  → stopping → stopped
 *
 * Stop and pause are a message to the worker (finish the step, write, done); a worker that has not
 * ended after a grace period gets SIGTERM (it then quits at once, recording `interrupted`), and
 * after a second one SIGKILL: the stop button always stops. A worker that ends without recording
 * its end (killed, crashed) leaves the run `failed` with the reason in words and its log's tail. At
 * start-up, runs left active by a crashed app are marked `interrupted` (their processes are gone)
 * and queued runs are started again in order.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CamdError, type RunRow, type Store, type WorkerMessage } from 'camd-studio/trainer';
import type { Run } from '../common/contract.js';
import type { EventBus } from '../base/bus.js';
import { NotFound } from '../base/errors.js';
import type { Launcher, WorkerProcess } from './launcher.js';
import { RunLog } from './run-log.js';
import { runRow } from '../base/run-rows.js';
import { exitInWords } from './exit-words.js';
import { isWorking } from 'camd-studio/trainer/protocol';

export interface SupervisorOptions {
  /** How long a stop may take before SIGTERM (ms), and then before SIGKILL. */
  graceMs?: number;
  killMs?: number;
}

interface Current {
  runId: string;
  proc: WorkerProcess;
  requested: 'pause' | 'stop' | null;
  timers: NodeJS.Timeout[];
  log: RunLog;
  lastError: string | null;
  /** When the run's progress was last published. */
  announced: number;
}

export class Supervisor {
  private readonly queue: string[] = [];
  private current: Current | null = null;
  private readonly graceMs: number;
  private readonly killMs: number;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly launcher: Launcher,
    private readonly db: string,
    private readonly logsDir: string,
    opts: SupervisorOptions = {},
  ) {
    this.graceMs = opts.graceMs ?? 30_000;
    this.killMs = opts.killMs ?? 10_000;
  }

  /** At start-up: dead runs become interrupted, queued runs go back in the queue (oldest first). */
  recover(): void {
    for (const r of this.store.reapDeadRuns()) this.announce(r.id);
    for (const id of this.store.queuedRunIds()) if (!this.queue.includes(id)) this.queue.push(id);
    this.pump();
  }

  run(id: string): Run {
    const r = runRow(this.store, id);
    if (!r) throw new NotFound(`run ${id}`);
    return r;
  }

  private row(id: string): RunRow {
    const r = this.store.run(id);
    if (!r) throw new NotFound(`run ${id}`);
    return r;
  }

  private announce(id: string): void {
    const r = runRow(this.store, id);
    if (r) this.bus.emit('runs', r);
  }

  /** Every status the supervisor gives a run, through the store's one writer of it (Store.setRunStatus). */
  private setStatus(id: string, status: RunRow['status'], extra: Parameters<Store['setRunStatus']>[2] = {}): void {
    this.store.setRunStatus(id, status, extra);
    this.announce(id);
  }

  /** Queues a run (created, or one to resume). */
  enqueue(id: string): Run {
    const r = this.row(id);
    if (this.current?.runId === id || this.queue.includes(id)) return this.run(id);
    if (isWorking(r.status)) throw new CamdError('busy', `run ${id} is ${r.status}`);
    this.setStatus(id, 'queued', { error: null });
    this.queue.push(id);
    this.pump();
    return this.run(id);
  }

  /** Pause (checkpoint, resumable) or stop a run; a queued run just leaves the queue. */
  halt(id: string, mode: 'pause' | 'stop'): Run {
    const r = this.row(id);
    const q = this.queue.indexOf(id);
    if (q >= 0) {
      this.queue.splice(q, 1);
      this.setStatus(id, mode === 'pause' ? 'paused' : 'stopped');
      return this.run(id);
    }
    const c = this.current;
    if (!c || c.runId !== id) {
      if (isWorking(r.status))
        throw new CamdError('busy', `run ${id} is ${r.status} in another process; stop it there`);
      return this.run(id); // nothing to do: it is not running
    }
    if (c.requested === 'stop' && mode === 'pause') return this.run(id); // a stop stays a stop
    c.requested = mode;
    this.setStatus(id, mode === 'pause' ? 'pausing' : 'stopping');
    c.log.write('supervisor', `${mode} requested: asking the worker to finish its step`);
    c.proc.send({ cmd: 'stop' });
    if (c.timers.length === 0) {
      c.timers.push(
        setTimeout(() => {
          c.log.write('supervisor', `no end after ${this.graceMs} ms: SIGTERM`);
          c.proc.kill('SIGTERM');
        }, this.graceMs),
        setTimeout(() => {
          c.log.write('supervisor', `no end after ${this.graceMs + this.killMs} ms: SIGKILL`);
          c.proc.kill('SIGKILL');
        }, this.graceMs + this.killMs),
      );
    }
    return this.run(id);
  }

  /** The run a worker is at now, if any. */
  active(): string | null {
    return this.current?.runId ?? null;
  }

  queued(): string[] {
    return [...this.queue];
  }

  /** Resolves when run `id` has no worker any more (at most `ms`); false when it still has one. */
  async settled(id: string, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (this.current?.runId === id) {
      if (Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /** Forgets a queued run (before it is deleted). */
  dequeue(id: string): void {
    const q = this.queue.indexOf(id);
    if (q >= 0) this.queue.splice(q, 1);
  }

  /** Resolves when no worker runs and the queue is empty (tests, app quit). */
  idle(): Promise<void> {
    if (!this.current && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** App quit: the running run is paused (checkpoint) and the queue kept for the next start. */
  async shutdown(): Promise<void> {
    this.queue.length = 0;
    if (this.current) {
      const done = new Promise<void>((r) => this.idleWaiters.push(r));
      this.halt(this.current.runId, 'pause');
      await done;
    }
  }

  private pump(): void {
    if (this.current) return;
    const id = this.queue.shift();
    if (!id) {
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    try {
      this.launch(id);
    } catch (e) {
      this.setStatus(id, 'failed', {
        error: `the trainer could not be started: ${(e as Error).message}`,
        finished_at: new Date().toISOString(),
      });
      this.pump();
    }
  }

  private launch(id: string): void {
    const row = this.row(id);
    const kind = row.kind;
    const asked = JSON.parse(row.spec ?? '{}') as Record<string, unknown>;
    // a folder that already holds the run (paused, interrupted, or queued again after a crash) is resumed
    const resume =
      kind === 'pretrain' && typeof asked['out'] === 'string' && existsSync(join(asked['out'], 'run.json'));
    const spec = { ...asked, runId: id, db: this.db, ...(resume ? { resume: true } : {}) };
    const log = new RunLog(this.logsDir, id);
    log.write('supervisor', `starting ${kind} run ${id}`);
    const proc = this.launcher();
    const c: Current = { runId: id, proc, requested: null, timers: [], log, lastError: null, announced: 0 };
    this.current = c;
    proc.onLog((line) => log.write('stderr', line));
    proc.onMessage((m) => this.onMessage(c, kind, spec, m));
    proc.onExit((e) => this.onExit(c, e.code, e.signal, e.reason));
  }

  private onMessage(c: Current, kind: RunRow['kind'], spec: Record<string, unknown>, m: WorkerMessage): void {
    if (m.type === 'ready') {
      c.proc.send({ cmd: 'start', kind, spec });
      return;
    }
    if (m.type === 'pong') return;
    if (m.type !== 'progress') c.log.write('event', JSON.stringify(m));
    this.bus.emit('run', { run: c.runId, event: m });
    if (m.type === 'start') {
      // the trainer has recorded `running`; a pause or stop asked meanwhile still stands
      if (c.requested) this.setStatus(c.runId, c.requested === 'pause' ? 'pausing' : 'stopping');
      else this.announce(c.runId);
    } else if (m.type === 'step') {
      // the run's progress for lists and status bars, at most once a second
      const now = Date.now();
      if (now - c.announced >= 1000) {
        c.announced = now;
        const r = runRow(this.store, c.runId);
        if (r) this.bus.emit('runs', { ...r, last_step: Math.max(r.last_step, m.step) });
      }
      const values: Record<string, number> = {};
      for (const [k, v] of Object.entries(m)) if (typeof v === 'number' && k !== 'step' && k !== 'epoch') values[k] = v;
      this.bus.emit('metrics', { run: c.runId, step: m.step, epoch: m.epoch, t: Date.now(), values });
    } else if (m.type === 'error') c.lastError = m.message;
  }

  private onExit(c: Current, code: number | null, signal: string | null, reason?: string): void {
    for (const t of c.timers) clearTimeout(t);
    const words = exitInWords(code, signal, reason);
    c.log.write('supervisor', `worker ended: ${words ?? 'exit code 0'}`);
    const row = this.store.run(c.runId);
    if (row) {
      const finished = new Date().toISOString();
      if (row.status === 'stopped' && c.requested === 'pause') this.setStatus(c.runId, 'paused');
      else if (
        row.status === 'stopped' ||
        row.status === 'done' ||
        row.status === 'failed' ||
        row.status === 'interrupted'
      )
        this.announce(c.runId);
      else {
        // the worker ended without recording why: it was killed, it crashed, or it refused to start
        const tail = RunLog.tail(this.logsDir, c.runId, 5)
          .map((l) => l.slice(36))
          .join(' | ');
        const why = c.lastError ?? words ?? 'the trainer process ended without a result';
        // killed by the stop button's last resort: resumable from its last checkpoint
        const status = c.requested && signal === 'SIGKILL' ? 'interrupted' : 'failed';
        this.setStatus(c.runId, status, {
          error: `${why}${c.lastError && words ? ` (${words})` : ''}${tail && !c.lastError ? `; last log lines: ${tail}` : ''}`,
          finished_at: finished,
          pid: null,
        });
      }
    }
    this.current = null;
    this.pump();
  }
}
