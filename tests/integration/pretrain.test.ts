// `camd pretrain` as a user runs it: the real CLI process, real faces, a real SQLite store.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { withTmpfs } from '../support/tmpfs.js';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { faceFolder, mixedFolder, tempDir } from '../support/folders.js';
import { readTensorFile } from '../../trainer/src/store/checkpoint.js';
import { RunEvent as EventSchema, type RunEvent } from '../../trainer/src/protocol/events.js';

/** The events a pre-training run sends (start, step and done of kind pretrain). */
type PretrainEvent = Exclude<RunEvent, { kind: 'finetune' | 'eval' }>;

const CAMD = fileURLToPath(new URL('../../trainer/bin/camd.js', import.meta.url));

interface Result {
  status: number | null;
  events: PretrainEvent[];
  stderr: string;
}

function parseEvents(stdout: string): PretrainEvent[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => EventSchema.parse(JSON.parse(l)) as PretrainEvent); // every line is a valid event
}

function pretrain(args: string[], env: Record<string, string> = {}): Result {
  const r = spawnSync(process.execPath, [CAMD, 'pretrain', '--json', ...args], {
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, events: parseEvents(r.stdout), stderr: r.stderr };
}

const steps = (evs: PretrainEvent[]) =>
  evs.filter((e) => e.type === 'step') as Extract<PretrainEvent, { type: 'step' }>[];
const of = <T extends PretrainEvent['type']>(evs: PretrainEvent[], t: T) =>
  evs.filter((e) => e.type === t) as Extract<PretrainEvent, { type: T }>[];

/** Runs pretrain in the background and calls `onEvent` for each event; resolves with the exit. */
function pretrainLive(
  args: string[],
  onEvent: (e: PretrainEvent, pid: number) => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; events: PretrainEvent[]; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CAMD, 'pretrain', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const events: PretrainEvent[] = [];
    let buf = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        const e = EventSchema.parse(JSON.parse(line)) as PretrainEvent;
        events.push(e);
        onEvent(e, child.pid!);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => resolvePromise({ code, signal, events, stderr }));
  });
}

function sameWeights(a: string, b: string): { same: boolean; differing: string[] } {
  const A = readTensorFile(a).tensors;
  const B = readTensorFile(b).tensors;
  const differing: string[] = [];
  for (const [name, t] of A) {
    const u = B.get(name);
    if (!u || u.data.length !== t.data.length || t.data.some((v, i) => v !== u.data[i])) differing.push(name);
  }
  if (A.size !== B.size) differing.push('(tensor count)');
  return { same: differing.length === 0, differing };
}

const MICRO = ['--preset', 'micro', '--batch', '4', '--warmup-epochs', '0', '--blr', '0.05'];

describe('camd pretrain on real faces', () => {
  it('tiny/112 for 30 steps: the loss falls, checkpoints are written and recorded in the store', () => {
    const data = faceFolder(40, 'tiny');
    const out = join(tempDir('run'), 'tiny');
    const db = join(tempDir('db'), 'camd.db');
    const r = pretrain([
      '--data',
      data,
      '--steps',
      '30',
      '--batch',
      '8',
      '--blr',
      '4e-3',
      '--warmup-epochs',
      '0',
      '--checkpoint-every',
      '15',
      '--out',
      out,
      '--db',
      db,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const start = of(r.events, 'start')[0]!;
    expect(start.preset).toBe('tiny');
    expect(start.img_size).toBe(112);
    expect(start.backend).toBe('wasm');
    expect(start.images).toBe(40);
    const s = steps(r.events);
    expect(s.map((e) => e.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(s.slice(0, 5).map((e) => e.loss));
    const last = mean(s.slice(-5).map((e) => e.loss));
    expect(last).toBeLessThan(first * 0.9);
    expect(of(r.events, 'checkpoint').map((e) => e.step)).toEqual([15, 30]);
    const done = of(r.events, 'done')[0]!;
    expect(done.reason).toBe('completed');
    expect(existsSync(done.encoder!)).toBe(true);
    expect(readTensorFile(done.encoder!, 'camd-encoder').tensors.has('blocks.11.mlp.fc2.weight')).toBe(true);
    // the store has the run, its metrics and checkpoints
    const sql = new Database(db, { readonly: true });
    const run = sql.prepare('SELECT * FROM runs').get() as {
      status: string;
      last_step: number;
      backend: string;
      kind: string;
    };
    expect(run).toMatchObject({ status: 'done', last_step: 30, backend: 'wasm', kind: 'pretrain' });
    expect((sql.prepare("SELECT count(*) AS n FROM metrics WHERE name = 'loss'").get() as { n: number }).n).toBe(30);
    expect((sql.prepare("SELECT count(*) AS n FROM checkpoints WHERE kind = 'full'").get() as { n: number }).n).toBe(2);
    sql.close();
    // and it resumes: nothing left to do at 30/30 is refused politely? no — resuming a finished run just re-exports
    const again = pretrain(['--resume', out]);
    expect(again.status, again.stderr).toBe(0);
    expect(of(again.events, 'start')[0]!.first_step).toBe(31);
    expect(steps(again.events)).toHaveLength(0);
  });

  it('N steps + resume + M steps gives the same weights as N+M straight', () => {
    const data = faceFolder(12, 'resume');
    const db = join(tempDir('db'), 'camd.db');
    const straight = join(tempDir('run'), 'straight');
    const split = join(tempDir('run'), 'split');
    const a = pretrain([...MICRO, '--data', data, '--steps', '8', '--out', straight, '--db', db, '--seed', '3']);
    expect(a.status, a.stderr).toBe(0);
    const b1 = pretrain([
      ...MICRO,
      '--data',
      data,
      '--steps',
      '8',
      '--out',
      split,
      '--db',
      db,
      '--seed',
      '3',
      '--stop-at',
      '5',
    ]);
    expect(b1.status, b1.stderr).toBe(0);
    expect(of(b1.events, 'done')[0]!.reason).toBe('interrupted');
    expect(of(b1.events, 'done')[0]!.step).toBe(5);
    const b2 = pretrain(['--resume', split, '--db', db]);
    expect(b2.status, b2.stderr).toBe(0);
    expect(steps(b2.events)[0]!.step).toBe(6);
    expect(of(b2.events, 'done')[0]!.step).toBe(8);
    // same losses at the same steps, and bit-identical weights and optimiser state
    const la = steps(a.events)
      .slice(5)
      .map((e) => e.loss);
    const lb = steps(b2.events).map((e) => e.loss);
    expect(lb).toEqual(la);
    const cmp = sameWeights(of(a.events, 'done')[0]!.checkpoint!, of(b2.events, 'done')[0]!.checkpoint!);
    expect(cmp.differing).toEqual([]);
    // a flag that would change the computation is refused on resume
    const bad = pretrain(['--resume', split, '--db', db, '--batch', '8']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--batch 8 differs from the resumed run's 4/);
  });

  it('SIGINT finishes the step, checkpoints and exits 0; the run resumes at the next step', async () => {
    const data = faceFolder(12, 'sigint');
    const out = join(tempDir('run'), 'sigint');
    const db = join(tempDir('db'), 'camd.db');
    let sent = false;
    const r = await pretrainLive(
      [...MICRO, '--data', data, '--steps', '400', '--out', out, '--db', db, '--checkpoint-every', '1000'],
      (e, pid) => {
        if (e.type === 'step' && e.step === 3 && !sent) {
          sent = true;
          process.kill(pid, 'SIGINT');
        }
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const done = of(r.events, 'done')[0]!;
    expect(done.reason).toBe('interrupted');
    const ck = of(r.events, 'checkpoint');
    expect(ck).toHaveLength(1);
    expect(ck[0]!.step).toBe(done.step);
    const again = pretrain(['--resume', out, '--db', db, '--stop-at', String(done.step + 2)]);
    expect(again.status, again.stderr).toBe(0);
    expect(steps(again.events)[0]!.step).toBe(done.step + 1);
    const sql = new Database(db, { readonly: true });
    expect((sql.prepare('SELECT status FROM runs').get() as { status: string }).status).toBe('stopped');
    sql.close();
  });

  it('kill -9 leaves the store and the last checkpoint intact, and resume works', async () => {
    const data = faceFolder(12, 'kill');
    const out = join(tempDir('run'), 'kill');
    const db = join(tempDir('db'), 'camd.db');
    let killed = false;
    const r = await pretrainLive(
      [...MICRO, '--data', data, '--steps', '400', '--out', out, '--db', db, '--checkpoint-every', '2'],
      (e, pid) => {
        if (e.type === 'step' && e.step === 5 && !killed) {
          killed = true;
          process.kill(pid, 'SIGKILL');
        }
      },
    );
    expect(r.signal).toBe('SIGKILL');
    const sql = new Database(db);
    expect(sql.pragma('integrity_check', { simple: true })).toBe('ok');
    const run = sql.prepare('SELECT status, last_step FROM runs').get() as { status: string; last_step: number };
    expect(run.status).toBe('running'); // it never got to say otherwise
    sql.close();
    const cks = readdirSync(join(out, 'checkpoints'));
    expect(cks.length).toBeGreaterThan(0);
    expect(cks.every((f) => /^step-\d{8}\.ckpt$/.test(f))).toBe(true); // no temp file left as a checkpoint
    const latest = join(out, 'checkpoints', cks.sort().pop()!);
    expect(() => readTensorFile(latest, 'camd-checkpoint')).not.toThrow();
    const again = pretrain(['--resume', out, '--db', db, '--stop-at', '8']);
    expect(again.status, again.stderr).toBe(0);
    expect(of(again.events, 'start')[0]!.resumed_from).toBe(latest);
  });

  it('a NaN loss stops with a message naming the step and keeps the last good checkpoint', () => {
    const data = faceFolder(12, 'nan');
    const out = join(tempDir('run'), 'nan');
    const db = join(tempDir('db'), 'camd.db');
    const r = pretrain([
      '--preset',
      'micro',
      '--batch',
      '4',
      '--warmup-epochs',
      '0',
      '--blr',
      '1e9',
      '--data',
      data,
      '--steps',
      '20',
      '--out',
      out,
      '--db',
      db,
      '--checkpoint-every',
      '1',
    ]);
    expect(r.status).toBe(3);
    const err = of(r.events, 'error')[0]!;
    const good = of(r.events, 'checkpoint').pop()!;
    expect(err.message).toMatch(new RegExp(`the loss became (NaN|-?Infinity) at step ${err.step}`));
    expect(err.message).toContain(`The last good checkpoint is ${good.path}`);
    expect(good.step).toBe(err.step! - 1);
    const ck = readTensorFile(good.path, 'camd-checkpoint');
    for (const t of ck.tensors.values()) expect(t.data.every(Number.isFinite)).toBe(true);
  });

  it('bad input: missing folder, empty folder, no readable image — one line each; unreadable files among good ones are skipped', async () => {
    const db = join(tempDir('db'), 'camd.db');
    const missing = pretrain(['--data', '/no/such/faces', '--db', db]);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe('camd: the folder /no/such/faces does not exist');
    expect(of(missing.events, 'error')[0]!.message).toMatch(/does not exist/);
    const empty = tempDir('empty');
    const e = pretrain(['--data', empty, '--db', db]);
    expect(e.status).toBe(2);
    expect(e.stderr.trim()).toMatch(/^camd: no readable image in /);
    const junk = tempDir('junk');
    writeFileSync(join(junk, 'a.jpg'), 'nope');
    const j = pretrain(['--data', junk, '--db', db]);
    expect(j.status).toBe(2);
    expect(j.stderr.trim()).toMatch(/no readable image in .*\(1 unreadable file\(s\), e\.g\. a\.jpg: not an image/);
    expect(pretrain(['--db', db]).stderr.trim()).toBe(
      'camd: --data DIR is required (the folder of face images; --data sample pre-trains on the sample faces that come with the installed packages)',
    );
    const { dir } = await mixedFolder();
    const mixed = pretrain([
      ...MICRO,
      '--data',
      dir,
      '--steps',
      '2',
      '--out',
      join(tempDir('run'), 'mixed'),
      '--db',
      db,
    ]);
    expect(mixed.status, mixed.stderr).toBe(0);
    expect(of(mixed.events, 'start')[0]).toMatchObject({ images: 5, bad_images: 4 });
    const few = pretrain([
      '--preset',
      'micro',
      '--data',
      dir,
      '--batch',
      '16',
      '--db',
      db,
      '--out',
      join(tempDir('run'), 'few'),
    ]);
    expect(few.status).toBe(2);
    expect(few.stderr).toMatch(/5 readable image\(s\), fewer than the batch size 16/);
  });

  it('a corrupt or foreign checkpoint is refused; resume falls back to the previous good one', () => {
    const data = faceFolder(12, 'corrupt');
    const out = join(tempDir('run'), 'corrupt');
    const db = join(tempDir('db'), 'camd.db');
    const r = pretrain([
      ...MICRO,
      '--data',
      data,
      '--steps',
      '6',
      '--stop-at',
      '4',
      '--checkpoint-every',
      '2',
      '--out',
      out,
      '--db',
      db,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const cks = of(r.events, 'checkpoint');
    const latest = cks.pop()!;
    const prev = cks.pop()!;
    const bytes = readFileSync(latest.path);
    bytes[bytes.length - 10]! ^= 0xff; // flip one byte of data
    writeFileSync(latest.path, bytes);
    expect(() => readTensorFile(latest.path)).toThrow(/checksum mismatch/);
    const again = pretrain(['--resume', out, '--db', db]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/skipping checkpoint .*step-00000004\.ckpt: .*checksum mismatch/);
    expect(of(again.events, 'start')[0]!.resumed_from).toBe(prev.path);
    expect(steps(again.events)[0]!.step).toBe(prev.step + 1);
    // a file that is not a CAMD checkpoint at all
    const foreign = join(tempDir('foreign'), 'model.ckpt');
    mkdirSync(join(foreign, '..'), { recursive: true });
    writeFileSync(foreign, 'PK\u0003\u0004 not a checkpoint');
    expect(() => readTensorFile(foreign)).toThrow(/is not a usable CAMD checkpoint/);
  });
});

describe('disk full while writing a checkpoint', () => {
  it('a disk with room for --keep-checkpoints files and no more is enough, fresh and after --resume (tmpfs of 4.2 MB, checkpoints of 1.6 MB)', (ctx) => {
    // the old ones beyond keep − 1 go before the new one is written, not after
    withTmpfs('size=4200k', ctx, (mnt) => {
      const data = faceFolder(12, 'room');
      const out = join(mnt, 'run');
      const db = join(tempDir('db'), 'camd.db');
      const listed = () => {
        const sql = new Database(db, { readonly: true });
        const rows = sql.prepare("SELECT path FROM checkpoints WHERE kind = 'full' ORDER BY step").all() as {
          path: string;
        }[];
        sql.close();
        return rows.map((r) => r.path.split('/').pop());
      };
      const first = pretrain([
        ...MICRO,
        '--data',
        data,
        '--steps',
        '12',
        '--checkpoint-every',
        '2',
        '--keep-checkpoints',
        '2',
        '--stop-at',
        '4',
        '--out',
        out,
        '--db',
        db,
      ]);
      expect(first.status, first.stderr).toBe(0);
      const again = pretrain(['--resume', out]);
      expect(again.status, again.stderr).toBe(0);
      expect(
        of(again.events, 'checkpoint')
          .filter((c) => c.role === 'full')
          .map((c) => c.step),
      ).toEqual([6, 8, 10, 12]);
      expect(readdirSync(join(out, 'checkpoints'))).toEqual(['step-00000010.ckpt', 'step-00000012.ckpt']);
      expect(listed()).toEqual(['step-00000010.ckpt', 'step-00000012.ckpt']);
      const fresh = join(mnt, 'fresh');
      rmSync(out, { recursive: true });
      const r = pretrain([
        ...MICRO,
        '--data',
        data,
        '--steps',
        '8',
        '--checkpoint-every',
        '2',
        '--keep-checkpoints',
        '2',
        '--out',
        fresh,
        '--db',
        db,
      ]);
      expect(r.status, r.stderr).toBe(0);
      expect(readdirSync(join(fresh, 'checkpoints'))).toEqual(['step-00000006.ckpt', 'step-00000008.ckpt']);
    });
  });

  it('fails with one line, and the previous checkpoint survives (tmpfs of 2.2 MB)', (ctx) => {
    // where tmpfs cannot be mounted, the unit test in tests/unit/checkpoint.test.ts still covers ENOSPC
    withTmpfs('size=2200k', ctx, (mnt) => {
      const data = faceFolder(12, 'full');
      const out = join(mnt, 'run');
      const db = join(tempDir('db'), 'camd.db');
      const r = pretrain([
        ...MICRO,
        '--data',
        data,
        '--steps',
        '10',
        '--checkpoint-every',
        '2',
        '--out',
        out,
        '--db',
        db,
      ]);
      expect(r.status).toBe(4);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/disk full while writing .*step-00000004\.ckpt \(no partial file was left\)/);
      const ok = of(r.events, 'checkpoint');
      expect(ok.map((c) => c.step)).toEqual([2]);
      expect(() => readTensorFile(ok[0]!.path, 'camd-checkpoint')).not.toThrow();
      expect(readdirSync(join(out, 'checkpoints'))).toEqual(['step-00000002.ckpt']); // no temp file left
      const sql = new Database(db, { readonly: true });
      expect((sql.prepare('SELECT status, error FROM runs').get() as { status: string; error: string }).status).toBe(
        'failed',
      );
      sql.close();
    });
  });
});
