// Runs that the app's supervisor starts, stops, kills and resumes all day: every case through the
// real CLI on real faces with a real store.
import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { faceFolder, tempDir } from '../support/folders.js';
import { camd, camdLive, integrity, of, sql, type Ev } from '../support/cli.js';
import { readTensorFile } from '../../trainer/src/store/checkpoint.js';
import { withTmpfs } from '../support/tmpfs.js';

const MICRO = ['--preset', 'micro', '--batch', '4', '--warmup-epochs', '0', '--blr', '0.05'];
const steps = (evs: Ev[]) => of(evs, 'step').map((e) => e['step'] as number);
const ckptSteps = (evs: Ev[]) => of(evs, 'checkpoint').map((e) => e['step'] as number);
const files = (out: string) => readdirSync(join(out, 'checkpoints')).sort();

describe('resume keeps the run options, and they may change', () => {
  it('--checkpoint-every and --keep-checkpoints survive a plain --resume; a new value is used and recorded', () => {
    const data = faceFolder(12, 'opts');
    const out = join(tempDir('run'), 'opts');
    const db = join(tempDir('db'), 'camd.db');
    const a = camd([
      'pretrain',
      '--json',
      ...MICRO,
      '--data',
      data,
      '--steps',
      '12',
      '--checkpoint-every',
      '2',
      '--keep-checkpoints',
      '3',
      '--stop-at',
      '4',
      '--out',
      out,
      '--db',
      db,
    ]);
    expect(a.status, a.stderr).toBe(0);
    expect(ckptSteps(a.events)).toEqual([2, 4]);
    const b = camd(['pretrain', '--json', '--resume', out, '--stop-at', '8']);
    expect(b.status, b.stderr).toBe(0);
    expect(ckptSteps(b.events)).toEqual([6, 8]); // every 2, as the run was started
    expect(files(out)).toEqual(['step-00000004.ckpt', 'step-00000006.ckpt', 'step-00000008.ckpt']); // keeps 3
    const c = camd(['pretrain', '--json', '--resume', out, '--checkpoint-every', '3', '--keep-checkpoints', '1']);
    expect(c.status, c.stderr).toBe(0);
    expect(of(c.events, 'log').map((e) => e['message'])).toContain(
      'run options changed on resume: checkpointEvery 2 → 3, keepCheckpoints 3 → 1',
    );
    expect(ckptSteps(c.events)).toEqual([11, 12]);
    expect(files(out)).toEqual(['step-00000012.ckpt']);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { options: Record<string, unknown> };
    expect(run.options).toMatchObject({ checkpointEvery: 3, keepCheckpoints: 1 });
  });

  it('--keep-checkpoints below 1, --checkpoint-every 0 and --stop-at 0 are refused with one line; the store lists exactly the files kept', () => {
    const data = faceFolder(12, 'keep');
    const db = join(tempDir('db'), 'camd.db');
    for (const [flag, v] of [
      ['--keep-checkpoints', '0'],
      ['--keep-checkpoints', '-1'],
      ['--checkpoint-every', '0'],
      ['--stop-at', '0'],
    ] as const) {
      const r = camd([
        'pretrain',
        ...MICRO,
        '--data',
        data,
        '--steps',
        '3',
        '--out',
        join(tempDir('run'), 'k'),
        '--db',
        db,
        flag,
        v,
      ]);
      expect(r.status, `${flag} ${v}`).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^camd: ${flag} must be an integer of at least 1`));
      expect(r.events).toEqual([]);
    }
    // an empty value is no number (Number('') is 0: it used to say "got 0")
    for (const v of ['', ' ']) {
      const r = camd([
        'pretrain',
        ...MICRO,
        '--data',
        data,
        '--steps',
        '3',
        '--out',
        join(tempDir('run'), 'k'),
        '--db',
        db,
        '--keep-checkpoints',
        v,
      ]);
      expect([r.status, r.stderr.trim()]).toEqual([2, `camd: --keep-checkpoints must be an integer, got '${v}'`]);
    }
    expect(existsSync(db)).toBe(false); // refused before any work
    const out = join(tempDir('run'), 'k1');
    const r = camd([
      'pretrain',
      '--json',
      ...MICRO,
      '--data',
      data,
      '--steps',
      '5',
      '--checkpoint-every',
      '1',
      '--keep-checkpoints',
      '1',
      '--out',
      out,
      '--db',
      db,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(files(out)).toEqual(['step-00000005.ckpt']);
    const rows = sql<{ path: string }>(db, "SELECT path FROM checkpoints WHERE kind = 'full'");
    expect(rows.map((x) => x.path)).toEqual([join(out, 'checkpoints', 'step-00000005.ckpt')]);
    const again = camd(['pretrain', '--json', '--resume', out, '--stop-at', '5']);
    expect(again.status).toBe(2);
    expect(again.stderr.trim()).toBe('camd: --stop-at 5: the run is already at step 5');
  });
});

describe('a run without a checkpoint is restartable, and a dead run is not shown as running', () => {
  it('kill -9 before the first checkpoint: the next command marks it interrupted; --out refuses and names --resume; --resume restarts from step 1', async () => {
    const data = faceFolder(12, 'dead');
    const out = join(tempDir('run'), 'dead');
    const db = join(tempDir('db'), 'camd.db');
    const live = camdLive(
      [
        'pretrain',
        '--json',
        ...MICRO,
        '--data',
        data,
        '--steps',
        '400',
        '--checkpoint-every',
        '1000',
        '--out',
        out,
        '--db',
        db,
      ],
      (e, pid) => {
        if (e.type === 'step' && e['step'] === 2) process.kill(pid, 'SIGKILL');
      },
    );
    const r = await live.done;
    expect(r.signal).toBe('SIGKILL');
    expect(sql<{ status: string; pid: number }>(db, 'SELECT status, pid FROM runs')[0]).toMatchObject({
      status: 'running',
      pid: live.pid,
    });
    // any command that opens the store finds the process gone
    const scan = camd(['scan', data, '--db', db]);
    expect(scan.status, scan.stderr).toBe(0);
    const row = sql<{ status: string; error: string }>(db, 'SELECT status, error FROM runs')[0]!;
    expect(row.status).toBe('interrupted');
    expect(row.error).toMatch(
      new RegExp(`the process that ran it \\(pid ${live.pid} on .*\\) ended without recording why`),
    );
    const again = camd(['pretrain', ...MICRO, '--data', data, '--steps', '400', '--out', out, '--db', db]);
    expect(again.status).toBe(2);
    expect(again.stderr.trim().split('\n').pop()).toBe(
      `camd: ${out} already holds a run (it never reached a checkpoint: --resume restarts it from step 1); continue it with --resume ${out}, or choose another --out`,
    );
    const resumed = camd(['pretrain', '--json', '--resume', out, '--steps', '4']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(of(resumed.events, 'log').map((e) => e['message'])).toContain(
      `no checkpoint in ${join(out, 'checkpoints')}: restarting the run from step 1`,
    );
    expect(steps(resumed.events)).toEqual([1, 2, 3, 4]);
    expect(sql<{ status: string; last_step: number }>(db, 'SELECT status, last_step FROM runs')).toEqual([
      { status: 'done', last_step: 4 },
    ]);
    expect(sql<{ n: number }>(db, "SELECT count(*) AS n FROM metrics WHERE name = 'loss'")[0]!.n).toBe(4); // the dead attempt's points are replaced
    expect(integrity(db)).toBe('ok');
  });

  it('a NaN before the first checkpoint: --resume restarts from step 1 and may change the settings', () => {
    const data = faceFolder(12, 'nan0');
    const out = join(tempDir('run'), 'nan0');
    const db = join(tempDir('db'), 'camd.db');
    const bad = camd([
      'pretrain',
      '--json',
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
      '--checkpoint-every',
      '1000',
      '--out',
      out,
      '--db',
      db,
    ]);
    expect(bad.status).toBe(3);
    expect(of(bad.events, 'error')[0]!['message']).toMatch(
      /No checkpoint was written yet; --resume restarts the run from step 1 and may change its settings/,
    );
    const fixed = camd(['pretrain', '--json', '--resume', out, '--blr', '0.05', '--steps', '3']);
    expect(fixed.status, fixed.stderr).toBe(0);
    expect(steps(fixed.events)).toEqual([1, 2, 3]);
    expect(
      (JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { settings: { blr: number } }).settings.blr,
    ).toBe(0.05);
    expect(sql<{ status: string; error: string | null }>(db, 'SELECT status, error FROM runs')).toEqual([
      { status: 'done', error: null },
    ]);
    // with a checkpoint the computation is fixed again
    const refused = camd(['pretrain', '--resume', out, '--blr', '0.01']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--blr 0\.01 differs from the resumed run's 0\.05/);
  });

  it('partial files of killed processes are removed at start and at resume', () => {
    const data = faceFolder(12, 'tmp');
    const out = join(tempDir('run'), 'tmp');
    const db = join(tempDir('db'), 'camd.db');
    const a = camd([
      'pretrain',
      '--json',
      ...MICRO,
      '--data',
      data,
      '--steps',
      '6',
      '--checkpoint-every',
      '2',
      '--stop-at',
      '2',
      '--out',
      out,
      '--db',
      db,
    ]);
    expect(a.status, a.stderr).toBe(0);
    // what kill -9 during a write leaves (pids of processes that no longer exist)
    writeFileSync(join(out, 'checkpoints', '.step-00000004.ckpt.tmp-4194301'), Buffer.alloc(300_000));
    writeFileSync(join(out, '.encoder.safetensors.tmp-4194302'), Buffer.alloc(1000));
    const b = camd(['pretrain', '--json', '--resume', out]);
    expect(b.status, b.stderr).toBe(0);
    expect(of(b.events, 'log').map((e) => e['message'])).toContain(
      `removed 2 partial file(s) (0.3 MB) left in ${out} by a process that was stopped while writing`,
    );
    expect(readdirSync(join(out, 'checkpoints')).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('retention after a damaged checkpoint', () => {
  it('the damaged newest file is moved aside and removed; the good older one it resumed from is kept', () => {
    const data = faceFolder(12, 'ret');
    const out = join(tempDir('run'), 'ret');
    const db = join(tempDir('db'), 'camd.db');
    const a = camd([
      'pretrain',
      '--json',
      ...MICRO,
      '--data',
      data,
      '--steps',
      '10',
      '--checkpoint-every',
      '2',
      '--stop-at',
      '4',
      '--out',
      out,
      '--db',
      db,
    ]);
    expect(a.status, a.stderr).toBe(0);
    const newest = join(out, 'checkpoints', 'step-00000004.ckpt');
    const bytes = readFileSync(newest);
    bytes[bytes.length - 5]! ^= 0xff;
    writeFileSync(newest, bytes);
    const b = camd(['pretrain', '--json', '--resume', out, '--checkpoint-every', '1', '--stop-at', '3']);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stderr).toMatch(
      /skipping checkpoint .*step-00000004\.ckpt: data checksum mismatch .*; moved aside as .*step-00000004\.ckpt\.corrupt/,
    );
    expect(of(b.events, 'start')[0]!['resumed_from']).toBe(join(out, 'checkpoints', 'step-00000002.ckpt'));
    // keep 2: the resumed-from file and the new one; the damaged file is gone
    expect(readdirSync(join(out, 'checkpoints')).sort()).toEqual(['step-00000002.ckpt', 'step-00000003.ckpt']);
    for (const f of files(out))
      expect(() => readTensorFile(join(out, 'checkpoints', f), 'camd-checkpoint')).not.toThrow();
    const rows = sql<{ step: number }>(db, "SELECT step FROM checkpoints WHERE kind = 'full' ORDER BY step").map(
      (r) => r.step,
    );
    expect(rows).toEqual([2, 3]);
  });

  it('a sound checkpoint of another run is refused and left untouched', () => {
    const data = faceFolder(12, 'other');
    const db = join(tempDir('db'), 'camd.db');
    const outA = join(tempDir('run'), 'a');
    const outB = join(tempDir('run'), 'b');
    expect(camd(['pretrain', ...MICRO, '--data', data, '--steps', '2', '--out', outA, '--db', db]).status).toBe(0);
    expect(
      camd(['pretrain', ...MICRO, '--data', data, '--steps', '2', '--seed', '1', '--out', outB, '--db', db]).status,
    ).toBe(0);
    const foreign = readFileSync(join(outA, 'checkpoints', 'step-00000002.ckpt'));
    writeFileSync(join(outB, 'checkpoints', 'step-00000002.ckpt'), foreign);
    const r = camd(['pretrain', '--resume', outB]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^camd: cannot resume from .*step-00000002\.ckpt: .*belongs to run /);
    expect(readFileSync(join(outB, 'checkpoints', 'step-00000002.ckpt')).equals(foreign)).toBe(true);
  });
});

describe('one writer per run folder', () => {
  it('a second process on the same folder is refused with one line naming the holder; the lock goes with the process', async () => {
    const data = faceFolder(12, 'lock');
    const out = join(tempDir('run'), 'lock');
    const db = join(tempDir('db'), 'camd.db');
    let second: ReturnType<typeof camd> | null = null;
    let third: ReturnType<typeof camd> | null = null;
    const live = camdLive(
      [
        'pretrain',
        '--json',
        ...MICRO,
        '--data',
        data,
        '--steps',
        '400',
        '--checkpoint-every',
        '2',
        '--out',
        out,
        '--db',
        db,
      ],
      (e, pid) => {
        if (e.type === 'step' && e['step'] === 3 && !second) {
          second = camd(['pretrain', '--json', '--resume', out]);
          third = camd(['pretrain', ...MICRO, '--data', data, '--steps', '5', '--out', out, '--db', db]);
          process.kill(pid, 'SIGKILL');
        }
      },
    );
    await live.done;
    const s = second as unknown as ReturnType<typeof camd>;
    expect(s.status).toBe(2);
    expect(s.stderr.trim()).toMatch(
      new RegExp(
        `^camd: ${out} is in use by process ${live.pid} on .* \\(camd pretrain, since .*\\); wait for it to finish or stop it first$`,
      ),
    );
    expect(of(s.events, 'error')[0]).toMatchObject({ cause: 'busy' });
    const t = third as unknown as ReturnType<typeof camd>;
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/is in use by process/);
    // killed holding the lock: the next process takes it
    const reached = Math.max(...files(out).map((f) => Number(/\d{8}/.exec(f)![0]))); // it ran on while the others were refused
    const after = camd(['pretrain', '--json', '--resume', out, '--stop-at', String(reached + 1)]);
    expect(after.status, after.stderr).toBe(0);
    expect(of(after.events, 'log').map((e) => e['message'])).toContain(
      `the previous process in ${out} (pid ${live.pid}) ended without releasing it`,
    );
  });
});

describe('stopping at once', () => {
  it('Ctrl-C twice quickly, the second during the checkpoint write: exit 130, and the store says interrupted (never running)', async () => {
    const data = faceFolder(12, 'twice');
    const out = join(tempDir('run'), 'twice');
    const db = join(tempDir('db'), 'camd.db');
    // tiny: a checkpoint of ~100 MB takes long enough for the second Ctrl-C to land during its write
    let first = false;
    const live = camdLive(
      [
        'pretrain',
        '--json',
        '--preset',
        'tiny',
        '--batch',
        '2',
        '--data',
        data,
        '--steps',
        '400',
        '--checkpoint-every',
        '1000',
        '--out',
        out,
        '--db',
        db,
      ],
      (e, pid) => {
        if (e.type === 'step' && e['step'] === 1) {
          process.kill(pid, 'SIGINT');
          first = true;
        }
        // the second as the checkpoint's phase begins (a fixed 150 ms after the first missed the
        // write once a step took less)
        if (first && e.type === 'progress' && e['phase'] === 'checkpoint' && e['done'] === 0)
          process.kill(pid, 'SIGINT');
      },
    );
    const r = await live.done;
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/second SIGINT: quitting at once/);
    const row = sql<{ status: string; error: string }>(db, 'SELECT status, error FROM runs')[0]!;
    expect(row.status).toBe('interrupted');
    expect(row.error).toMatch(/^quit at once \(second SIGINT\) after step \d+; .*; continue with --resume /);
    expect(existsSync(join(out, 'lock.json'))).toBe(false);
  });
});

describe('soak: 12 random kill -9 / resume cycles', () => {
  it('ends completed, with an intact store, no stale temporaries and the weights of an uninterrupted run', async () => {
    const data = faceFolder(12, 'soak');
    const db = join(tempDir('db'), 'camd.db');
    const straight = join(tempDir('run'), 'straight');
    const total = 30;
    const args = [
      ...MICRO,
      '--data',
      data,
      '--steps',
      String(total),
      '--seed',
      '7',
      '--checkpoint-every',
      '2',
      '--keep-checkpoints',
      '2',
    ];
    const a = camd(['pretrain', '--json', ...args, '--out', straight, '--db', db]);
    expect(a.status, a.stderr).toBe(0);
    const out = join(tempDir('run'), 'soak');
    // a seeded schedule of kill points: most after the run made 2–4 steps (then 0–600 ms later: any
    // step, during checkpoint writes too; counted in steps so that a loaded machine still moves the
    // run on), some at any moment from the process start (indexing, decoding, setup)
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let completed = false;
    const seen: string[] = [];
    const firstSteps = new Set<number>();
    for (let cycle = 0; cycle < 12; cycle++) {
      const first = !existsSync(join(out, 'run.json'));
      const cmd = first
        ? ['pretrain', '--json', ...args, '--out', out, '--db', db]
        : ['pretrain', '--json', '--resume', out];
      const early = rand() < 0.2;
      const delay = Math.floor(rand() * (early ? 1500 : 600));
      const afterSteps = 2 + Math.floor(rand() * 3);
      let steps = 0;
      let timer: NodeJS.Timeout | null = null;
      const kill = (pid: number) => {
        timer = setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* already done */
          }
        }, delay);
      };
      const live = camdLive(cmd, (e, pid) => {
        if (e.type === 'start') firstSteps.add(e['first_step'] as number);
        if (e.type === 'step' && ++steps === afterSteps && !early) kill(pid);
      });
      if (early) kill(live.pid);
      const r = await live.done;
      if (timer) clearTimeout(timer);
      seen.push(`${cycle}:${r.signal ?? r.status}:${of(r.events, 'step').length}`);
      if (r.status === 0 && of(r.events, 'done')[0]?.['reason'] === 'completed') completed = true;
      else expect(r.signal === 'SIGKILL' || r.status === 0, `${r.status} ${r.stderr}`).toBe(true);
    }
    // every resume continued from a newer checkpoint than the last: the run kept moving
    expect(firstSteps.size, seen.join(' ')).toBeGreaterThanOrEqual(5);
    if (!completed) {
      const fin = camd(['pretrain', '--json', '--resume', out]);
      expect(fin.status, fin.stderr).toBe(0);
    }
    expect(integrity(db)).toBe('ok');
    const runs = sql<{ out_dir: string; status: string; last_step: number }>(
      db,
      'SELECT out_dir, status, last_step FROM runs',
    );
    expect(runs.find((r) => r.out_dir === out)).toMatchObject({ status: 'done', last_step: total });
    const stale = [...readdirSync(out), ...readdirSync(join(out, 'checkpoints'))].filter(
      (f) => f.includes('.tmp-') || f.endsWith('.corrupt'),
    );
    expect(stale).toEqual([]);
    const A = readTensorFile(join(straight, 'checkpoints', `step-000000${total}.ckpt`)).tensors;
    const B = readTensorFile(join(out, 'checkpoints', `step-000000${total}.ckpt`)).tensors;
    const differing = [...A.keys()].filter((k) => !B.has(k) || A.get(k)!.data.some((v, i) => v !== B.get(k)!.data[i]));
    expect(differing, seen.join(' ')).toEqual([]);
    expect(
      sql<{ n: number }>(
        db,
        "SELECT count(*) AS n FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.out_dir = ? AND m.name = 'loss'",
        out,
      )[0]!.n,
    ).toBe(total);
  }, 400_000);
});

describe('a full disk', () => {
  it('under the store (its files cannot grow to index a folder): disk-full, exit 4 — not an input error', (ctx) => {
    withTmpfs('size=1m', ctx, (mnt) => {
      const db = join(mnt, 'camd.db');
      expect(camd(['scan', faceFolder(2, 'storefull-a'), '--db', db]).status).toBe(0);
      // the rest of the disk taken, then a folder of 40 images to index
      const filler = join(mnt, 'filler');
      try {
        for (;;) appendFileSync(filler, Buffer.alloc(16 << 10));
      } catch {
        // full
      }
      for (const args of [
        ['scan', faceFolder(40, 'storefull-b'), '--json', '--db', db],
        [
          'pretrain',
          '--json',
          '--preset',
          'micro',
          '--batch',
          '4',
          '--steps',
          '1',
          '--data',
          faceFolder(40, 'storefull-c'),
          '--out',
          join(tempDir('run'), 'sf'),
          '--db',
          db,
        ],
      ]) {
        const r = camd(args);
        expect(r.status, `${args[0]}: ${r.stderr}`).toBe(4);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(/disk is full/);
        expect(of(r.events, 'error')[0]).toMatchObject({ cause: 'disk-full' });
      }
    });
  });

  it('while building the decode cache: one line that says the disk is full, exit 4', (ctx) => {
    withTmpfs('size=700k', ctx, (mnt) => {
      const data = faceFolder(40, 'cachefull');
      const r = camd([
        'pretrain',
        '--json',
        '--preset',
        'micro',
        '--img-size',
        '128',
        '--batch',
        '4',
        '--data',
        data,
        '--steps',
        '2',
        '--out',
        join(tempDir('run'), 'cf'),
        '--db',
        join(mnt, 'camd.db'),
      ]);
      expect(r.status, r.stderr).toBe(4);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^camd: the disk is full: cannot write the decode cache in /);
      expect(of(r.events, 'error')[0]).toMatchObject({ cause: 'disk-full' });
    });
  });
});
