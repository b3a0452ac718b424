// The run supervisor with workers that misbehave, and its recovery after an app crash.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from '../../electron/services/app.js';
import { readWorkerOutput, type Launcher, type WorkerProcess } from '../../electron/supervisor/launcher.js';
import { Store } from '../../trainer/src/store/store.js';
import { faceFolder, tempDir } from '../support/folders.js';
import { until } from '../support/app-host.js';

/** A launcher of a script that speaks the worker protocol the way the test wants. */
function scriptLauncher(source: string, launched: unknown[] = []): Launcher {
  const file = join(tempDir('stub'), 'worker.mjs');
  writeFileSync(file, source);
  return () => {
    const child = spawn(process.execPath, [file], { stdio: ['pipe', 'pipe', 'pipe'] });
    const msgs: ((m: never) => void)[] = [];
    const logs: ((l: string) => void)[] = [];
    const exits: ((e: { code: number | null; signal: string | null }) => void)[] = [];
    readWorkerOutput(
      child.stdout,
      child.stderr,
      (m) => msgs.forEach((f) => f(m as never)),
      (l) => logs.forEach((f) => f(l)),
    );
    child.on('exit', (code, signal) => exits.forEach((f) => f({ code, signal })));
    child.stdin.on('error', () => undefined);
    const w: WorkerProcess = {
      pid: child.pid,
      send: (cmd) => {
        if (cmd.cmd === 'start') launched.push(cmd);
        if (child.stdin.writable) child.stdin.write(`${JSON.stringify(cmd)}\n`);
      },
      kill: (s) => void child.kill(s),
      onMessage: (f) => msgs.push(f as never),
      onLog: (f) => logs.push(f),
      onExit: (f) => exits.push(f),
    };
    return w;
  };
}

const STUBBORN = `
process.on('SIGTERM', () => console.error('SIGTERM ignored'));
process.stdout.write(JSON.stringify({ type: 'ready', pid: process.pid, version: '0.0.0' }) + '\\n');
process.stdin.on('data', (d) => { for (const l of String(d).split('\\n').filter(Boolean)) console.error('got ' + JSON.parse(l).cmd + ', ignoring it'); });
setInterval(() => {}, 1000);
`;

describe('supervisor', () => {
  it('the stop button always stops: a worker that ignores stop and SIGTERM is killed, and the run says so', async () => {
    const app = new App({
      dataDir: tempDir('sup'),
      launcher: scriptLauncher(STUBBORN),
      supervisor: { graceMs: 300, killMs: 300 },
    });
    try {
      const { dataset } = await app.datasets.add(faceFolder(4, 'sup'));
      const run = app.runs.create({
        kind: 'pretrain',
        dataset: dataset.id,
        settings: { preset: 'micro', batch: 4, steps: 10 },
        start: true,
      });
      await until(
        'the worker to start',
        () => app.runs.log(run.id, 50).lines.join('\n'),
        (l) => l.includes('got start'),
      );
      const t0 = Date.now();
      expect(app.runs.stop(run.id).status).toBe('stopping');
      const r = await until(
        'the run to end',
        () => app.runs.get(run.id),
        (x) => x.status !== 'stopping',
        10_000,
      );
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(r.status).toBe('interrupted');
      expect(r.error).toMatch(/killed \(SIGKILL\)/);
      const log = app.runs.log(run.id, 50).lines.join('\n');
      expect(log).toMatch(/stop requested/);
      expect(log).toMatch(/no end after 300 ms: SIGTERM/);
      expect(log).toMatch(/SIGTERM ignored/);
      expect(log).toMatch(/no end after 600 ms: SIGKILL/);
      expect(app.runs.detail(run.id).exit).toMatch(/SIGKILL/);
    } finally {
      await app.close();
    }
  });

  it('one run at a time: the next waits queued and starts when the first ends; a queued run can be stopped', async () => {
    const launched: { spec: { runId: string } }[] = [];
    const quick = `
process.stdout.write(JSON.stringify({ type: 'ready', pid: process.pid, version: '0.0.0' }) + '\\n');
process.stdin.on('data', () => setTimeout(() => process.exit(0), 200));
`;
    const app = new App({ dataDir: tempDir('sup2'), launcher: scriptLauncher(quick, launched as unknown[]) });
    try {
      const { dataset } = await app.datasets.add(faceFolder(4, 'sup2'));
      const mk = () =>
        app.runs.create({
          kind: 'pretrain',
          dataset: dataset.id,
          settings: { preset: 'micro', batch: 4, steps: 10 },
          start: true,
        });
      const a = mk();
      const b = mk();
      const c = mk();
      expect([a, b, c].map((r) => app.runs.get(r.id).status)).toEqual(['queued', 'queued', 'queued']);
      expect(app.supervisor.active()).toBe(a.id);
      expect(app.runs.stop(c.id).status).toBe('stopped');
      await app.supervisor.idle();
      expect(launched.map((l) => l.spec.runId)).toEqual([a.id, b.id]);
      // they ended without a result: failed, with the reason
      expect(app.runs.get(a.id)).toMatchObject({
        status: 'failed',
        error: expect.stringMatching(/ended without a result/) as unknown as string,
      });
    } finally {
      await app.close();
    }
  });

  it('after an app crash: runs left running are interrupted, queued runs start again in order', async () => {
    const dataDir = tempDir('sup3');
    const store = new Store(join(dataDir, 'camd.db'));
    const gone = await new Promise<number>((res) => {
      const c = spawn(process.execPath, ['-e', '0']);
      c.once('exit', () => res(c.pid!));
    });
    store.createRun({
      id: 'crashed',
      kind: 'pretrain',
      config: {},
      seed: 0,
      spec: { out: join(dataDir, 'runs', 'crashed') },
    });
    store.claimRun('crashed', { pid: gone, host: (await import('node:os')).hostname(), start: null });
    store.createRun({
      id: 'waiting',
      kind: 'pretrain',
      config: {},
      seed: 0,
      spec: { out: join(dataDir, 'runs', 'waiting') },
    });
    store.updateRun('waiting', { status: 'queued' });
    store.close();
    const launched: { spec: { runId: string } }[] = [];
    const app = new App({
      dataDir,
      launcher: scriptLauncher(
        `process.stdout.write(JSON.stringify({ type: 'ready', pid: process.pid, version: '0' }) + '\\n'); process.stdin.on('data', () => process.exit(0));`,
        launched as unknown[],
      ),
    });
    try {
      expect(app.runs.get('crashed')).toMatchObject({
        status: 'interrupted',
        error: expect.stringMatching(`pid ${gone}`) as unknown as string,
      });
      await app.supervisor.idle();
      expect(launched.map((l) => l.spec.runId)).toEqual(['waiting']);
    } finally {
      await app.close();
    }
  });
});
