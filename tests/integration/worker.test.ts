// `camd worker`: the process the app's supervisor starts for a run, driven by JSON commands.
import { describe, expect, it } from 'vitest';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { faceFolder, tempDir } from '../support/folders.js';
import { CAMD, sql } from '../support/cli.js';
import { WorkerMessage } from '../../trainer/src/protocol/worker-protocol.js';

type Msg = WorkerMessage;

/** A worker with a line reader over its stdout; every line must be a valid worker message. */
function worker(child: ChildProcess, send: (cmd: unknown) => void) {
  const messages: Msg[] = [];
  const waiters: { pred: (m: Msg) => boolean; res: (m: Msg) => void }[] = [];
  let buf = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = WorkerMessage.parse(JSON.parse(line)); // validated on this side too
      messages.push(m);
      for (const w of [...waiters]) if (w.pred(m)) waiters.splice(waiters.indexOf(w), 1), w.res(m);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return {
    messages,
    send,
    exit,
    stderr: () => stderr,
    next: (pred: (m: Msg) => boolean, ms = 60_000) =>
      new Promise<Msg>((res, rej) => {
        const found = messages.find(pred);
        if (found) return res(found);
        const t = setTimeout(
          () =>
            rej(new Error(`no such message in ${ms} ms; got ${JSON.stringify(messages.slice(-3))}; stderr ${stderr}`)),
          ms,
        );
        waiters.push({ pred, res: (m) => (clearTimeout(t), res(m)) });
      }),
  };
}

function stdioWorker() {
  const child = spawn(process.execPath, [CAMD, 'worker'], { stdio: ['pipe', 'pipe', 'pipe'] });
  return {
    child,
    w: worker(child, (cmd) => child.stdin!.write(`${typeof cmd === 'string' ? cmd : JSON.stringify(cmd)}\n`)),
  };
}

/** A stdio worker pre-training a micro run of 400 steps on 12 faces, at its step 2 (no checkpoint yet). */
async function trainingWorker(name: string) {
  const data = faceFolder(12, name);
  const out = join(tempDir('run'), 'o');
  const db = join(tempDir('db'), 'camd.db');
  const { child, w } = stdioWorker();
  await w.next((m) => m.type === 'ready');
  w.send({ cmd: 'start', kind: 'pretrain', spec: { ...MICRO, out, data, db, steps: 400, checkpointEvery: 1000 } });
  await w.next((m) => m.type === 'step' && m.step === 2);
  return { child, w, db };
}

const MICRO = { preset: 'micro', batch: 4, warmupEpochs: 0, blr: 0.05 };

describe('camd worker', () => {
  it('answers ping, ignores invalid commands with a warning, runs a job, stops on request and exits 0', async () => {
    const data = faceFolder(12, 'worker');
    const out = join(tempDir('run'), 'w');
    const db = join(tempDir('db'), 'camd.db');
    const { w } = stdioWorker();
    const ready = await w.next((m) => m.type === 'ready');
    expect(ready).toMatchObject({
      type: 'ready',
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/) as unknown as string,
    });
    w.send({ cmd: 'ping', id: 'a' });
    expect(await w.next((m) => m.type === 'pong')).toEqual({ type: 'pong', id: 'a' });
    w.send('not json');
    w.send({ cmd: 'launch' });
    w.send({ cmd: 'start', kind: 'pretrain', spec: { ...MICRO, out, data, db, steps: 400, checkpointEvery: 1000 } });
    await w.next((m) => m.type === 'step' && m.step === 2);
    w.send({ cmd: 'start', kind: 'pretrain', spec: { ...MICRO, out, data, db, steps: 400 } });
    w.send({ cmd: 'ping', id: 7 });
    await w.next((m) => m.type === 'pong' && m.id === 7); // answered while training
    w.send({ cmd: 'stop' });
    const done = await w.next((m) => m.type === 'done');
    expect(done).toMatchObject({ kind: 'pretrain', reason: 'interrupted' });
    expect(await w.exit).toBe(0);
    const warns = w.messages
      .filter((m) => m.type === 'log' && m.level === 'warn')
      .map((m) => (m as { message: string }).message);
    expect(warns).toEqual([
      'ignored a line that is not JSON: not json',
      expect.stringMatching(/^ignored an invalid worker command: /) as unknown as string,
      'ignored a second start: a worker runs one job',
    ]);
    expect(w.messages.filter((m) => m.type === 'checkpoint')).toHaveLength(1);
    expect(sql<{ status: string }>(db, 'SELECT status FROM runs')).toEqual([{ status: 'stopped' }]);
  });

  it('a bad spec is an error event with its cause and field, and the exit code of the cause', async () => {
    const { w } = stdioWorker();
    await w.next((m) => m.type === 'ready');
    w.send({ cmd: 'start', kind: 'pretrain', spec: { out: '/tmp/x', batch: 0 } });
    const err = await w.next((m) => m.type === 'error');
    expect(err).toEqual({
      type: 'error',
      cause: 'input',
      field: 'batch',
      message: '--batch must be an integer of at least 1 (images per step), got 0',
    });
    expect(await w.exit).toBe(2);
    const rel = stdioWorker();
    await rel.w.next((m) => m.type === 'ready');
    rel.w.send({
      cmd: 'start',
      kind: 'finetune',
      spec: { task: 'fer', format: 'folders', data: 'faces', init: 'none', out: '/tmp/y' },
    });
    expect(await rel.w.next((m) => m.type === 'error')).toMatchObject({
      cause: 'input',
      field: 'data',
      message: "--data must be an absolute path, got 'faces'",
    });
    expect(await rel.w.exit).toBe(2);
  });

  it('a closed stdin (the parent is gone) stops the job with its checkpoint', async () => {
    const { child, w, db } = await trainingWorker('orphan');
    child.stdin!.end();
    expect(await w.next((m) => m.type === 'done')).toMatchObject({ reason: 'interrupted' });
    expect(await w.exit).toBe(0);
    expect(w.messages.some((m) => m.type === 'checkpoint')).toBe(true);
    // recorded as interrupted with why, not as a stop someone asked for
    const run = sql(db, 'SELECT status, error, last_step FROM runs')[0] as {
      status: string;
      error: string;
      last_step: number;
    };
    expect(run).toEqual({
      status: 'interrupted',
      error: `the app that ran it closed (its worker's input ended); it stopped at step ${run.last_step} with a checkpoint: resume it to go on`,
      last_step: run.last_step,
    });
  });

  it('a stdout with no reader (the host died, its input still open) stops the job with its checkpoint, not at once', async () => {
    const { child, w, db } = await trainingWorker('orphan-out');
    child.stdout!.destroy(); // nobody reads our events any more: the next write is EPIPE
    expect(await w.exit).toBe(0);
    // the run stopped with a checkpoint at its last step, as a stop would, and says so in the store
    const ckpt = sql(db, "SELECT max(step) AS s FROM checkpoints WHERE kind = 'full'")[0] as { s: number | null };
    const run = sql(db, 'SELECT status, error, last_step FROM runs')[0] as {
      status: string;
      error: string;
      last_step: number;
    };
    expect(ckpt.s).toBeGreaterThanOrEqual(2);
    expect(ckpt.s).toBe(run.last_step);
    expect(run.status).toBe('interrupted');
    expect(run.error).toBe(
      `the app that ran it quit or crashed (nothing read its progress any more); it stopped at step ${run.last_step} with a checkpoint: resume it to go on`,
    );
    expect(w.stderr()).not.toMatch(/EPIPE|internal error/);
  });

  it('takes its commands from process.parentPort where there is one (Electron utility process)', async () => {
    // a stand-in for Electron's parentPort: messages of the IPC channel as {data} events
    const shim = join(tempDir('shim'), 'parent-port.mjs');
    writeFileSync(
      shim,
      "import { EventEmitter } from 'node:events';\nconst port = new EventEmitter();\nprocess.parentPort = { on: (ev, fn) => port.on(ev, fn) };\nprocess.on('message', (data) => port.emit('message', { data }));\n",
    );
    const child = fork(CAMD, ['worker'], { execArgv: ['--import', shim], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const w = worker(child, (cmd) => child.send(cmd as object));
    await w.next((m) => m.type === 'ready');
    w.send({ cmd: 'ping', id: 'port' });
    expect(await w.next((m) => m.type === 'pong')).toEqual({ type: 'pong', id: 'port' });
    w.send({ cmd: 'stop' }); // nothing running: the worker ends
    expect(await w.exit).toBe(0);
  });
});
