/**
 * `camd worker`: one job (pre-training, fine-tuning or evaluation) driven by JSON commands and
 * reporting JSON events (protocol/worker-protocol.ts) — the process the app's supervisor starts for a
 * run. Commands come on stdin, or through process.parentPort in an Electron utility process
 * (which has no stdin). A closed stdin means the parent is gone: the job is stopped as by `stop`;
 * so does a stdout nobody reads any more (EPIPE: the host died before our input was closed) — the
 * run ends at its next step with a checkpoint, its events no longer written.
 */
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { runEval, runFinetune, runPretrain, Store, type RunEvent } from '../api/index.js';
import { defaultDbPath } from '../util/paths.js';
import { WorkerCommand, WorkerMessage } from '../protocol/worker-protocol.js';
import { EXIT_CODE } from '../util/errors.js';
import { describeUserFacing } from '../util/system-errors.js';
import { runHardExitHooks } from '../util/exit-hooks.js';

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

/** Set when stdout has no reader any more: events are dropped (the store still records the run). */
let readerGone = false;
/** Why the job stopped without being asked to: its parent is gone. */
let orphaned: string | null = null;

/**
 * A run stopped because its parent went away is recorded as interrupted, with why and what is
 * kept — not as a stop someone asked for. The app shows it and offers to go on.
 */
function recordOrphaned(kind: 'pretrain' | 'finetune' | 'eval', spec: unknown, runId: string, why: string): void {
  const db = (spec as { db?: unknown }).db;
  let store: Store | null = null;
  try {
    store = new Store(typeof db === 'string' ? db : defaultDbPath());
    const row = store.run(runId);
    if (row?.status !== 'stopped') return;
    const kept =
      kind === 'pretrain'
        ? `it stopped at step ${row.last_step ?? 0} with a checkpoint: resume it to go on`
        : kind === 'finetune'
          ? `it stopped at step ${row.last_step ?? 0}; its model then is kept (last.safetensors)`
          : 'its evaluation stopped before the end';
    store.updateRun(runId, { status: 'interrupted', error: `${why}; ${kept}` });
  } catch (e) {
    process.stderr.write(
      `camd worker: could not record why run ${runId} stopped: ${e instanceof Error ? e.message : String(e)}\n`,
    );
  } finally {
    store?.close();
  }
}

function send(m: WorkerMessage): void {
  if (readerGone) return;
  const r = WorkerMessage.safeParse(m);
  const out = r.success
    ? m
    : ({
        type: 'error',
        cause: 'internal',
        message: `internal error: an invalid worker message (${r.error.issues[0]!.message})`,
      } as WorkerMessage);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** The one job of a worker, and how it ends: `finished` settles with the exit code. */
interface Job {
  ctl: AbortController;
  run: Promise<number> | null;
  /** SIGTERMs and SIGINTs so far (a stop counts as the first: the next quits at once). */
  signals: number;
  done: (code: number) => void;
  finished: Promise<number>;
}

function newJob(): Job {
  let done!: (code: number) => void;
  const finished = new Promise<number>((r) => (done = r));
  return { ctl: new AbortController(), run: null, signals: 0, done, finished };
}

/** Stops the job as by `stop`; with no job, the worker ends. */
function stopJob(job: Job): void {
  job.ctl.abort();
  if (!job.run) job.done(0);
}

/** Stops the job because its parent is gone, and says why (unless a stop was asked for first). */
function orphan(job: Job, why: string): void {
  if (!job.ctl.signal.aborted) orphaned = why;
  stopJob(job);
}

/** Runs the job; resolves with the exit code, after its error (if any) went out as an event. */
function runJob(kind: 'pretrain' | 'finetune' | 'eval', spec: unknown, signal: AbortSignal): Promise<number> {
  const sink = (e: RunEvent) => send(e);
  const run =
    kind === 'pretrain'
      ? runPretrain(spec, sink, signal)
      : kind === 'finetune'
        ? runFinetune(spec, sink, signal)
        : runEval(spec, sink, signal);
  return run.then(
    (r) => {
      if (orphaned && r.outcome === 'stopped') recordOrphaned(kind, spec, r.runId, orphaned);
      return r.outcome === 'diverged' ? EXIT_CODE.diverged : 0;
    },
    (e: unknown) => {
      const uf = describeUserFacing(e);
      if (uf) send({ type: 'error', message: uf.message, cause: uf.kind, ...(uf.field ? { field: uf.field } : {}) });
      else {
        send({
          type: 'error',
          message: `internal error: ${e instanceof Error ? e.message : String(e)}`,
          cause: 'internal',
        });
        process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      }
      return uf ? EXIT_CODE[uf.kind] : EXIT_CODE.internal;
    },
  );
}

/** One command from the parent: ping, stop, or the start of the (one) job. */
function onCommand(job: Job, raw: unknown): void {
  const c = WorkerCommand.safeParse(raw);
  if (!c.success) {
    send({
      type: 'log',
      level: 'warn',
      message: `ignored an invalid worker command: ${c.error.issues[0]!.path.join('.') || 'command'}: ${c.error.issues[0]!.message}`,
    });
    return;
  }
  const cmd = c.data;
  if (cmd.cmd === 'ping') send({ type: 'pong', id: cmd.id });
  else if (cmd.cmd === 'stop') {
    job.signals = Math.max(job.signals, 1); // a SIGTERM after a stop quits at once (the supervisor's escalation)
    stopJob(job);
  } else if (job.run) send({ type: 'log', level: 'warn', message: 'ignored a second start: a worker runs one job' });
  else {
    job.run = runJob(cmd.kind, cmd.spec, job.ctl.signal);
    void job.run.then(job.done);
  }
}

/** Commands through the Electron parent port, or as JSON lines on stdin (whose end means the parent is gone). */
function listenForCommands(job: Job): void {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    parentPort.on('message', (e) => onCommand(job, e.data));
    return;
  }
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      send({ type: 'log', level: 'warn', message: `ignored a line that is not JSON: ${line.slice(0, 80)}` });
      return;
    }
    onCommand(job, raw);
  });
  // the parent is gone (or closed our input): stop as asked, never run on unattended
  rl.on('close', () => orphan(job, "the app that ran it closed (its worker's input ended)"));
}

/**
 * The parent died with our stdout: a write fails with EPIPE (asynchronously). Without a handler that
 * error would end the process at once — the steps since the last checkpoint lost; stop as by `stop`.
 */
function stopWhenNobodyReads(job: Job): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
    readerGone = true;
    orphan(job, 'the app that ran it quit or crashed (nothing read its progress any more)');
  });
}

/** The first SIGTERM or SIGINT stops the job as `stop` does; a second quits at once. */
function stopOrQuitOnSignals(job: Job): void {
  const onSignal = (name: NodeJS.Signals) => {
    job.signals++;
    if (job.signals > 1) {
      runHardExitHooks(`second ${name}`);
      process.exit(130);
    }
    stopJob(job);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

export async function workerCommand(): Promise<void> {
  const version = (
    JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  const job = newJob();
  listenForCommands(job);
  stopWhenNobodyReads(job);
  stopOrQuitOnSignals(job);
  send({ type: 'ready', pid: process.pid, version });
  process.exit(await job.finished);
}
