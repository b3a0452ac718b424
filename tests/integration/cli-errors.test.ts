// Errors a user can cause are one plain line with the documented exit code (and an error event on
// stdout with --json), never a stack trace: every command with a set of hostile arguments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { faceFolder, tempDir } from '../support/folders.js';
import { camd, camdLive, noStack } from '../support/cli.js';
import { mountTmpfs, unmount } from '../support/tmpfs.js';
import { mapConcurrent } from '../../trainer/src/util/async.js';

interface Case {
  name: string;
  args: string[];
  code: number;
  message: RegExp;
  /** The command takes --json. */
  json?: boolean;
  needsRo?: boolean;
}

const MICRO = ['--preset', 'micro', '--batch', '4', '--warmup-epochs', '0', '--blr', '0.05'];
let ro: string | null = null;
let roWhy = '';
const cases: Case[] = [];

beforeAll(() => {
  const w = tempDir('hostile');
  // a read-only file system
  const t = mountTmpfs('ro,size=64k');
  if ('dir' in t) ro = t.dir;
  else roWhy = t.why;
  const mnt = ro ?? join(w, 'no-read-only-fs');
  const data = faceFolder(8, 'hostile-data');
  const afile = join(w, 'afile');
  writeFileSync(afile, 'just a file\n');
  const notdb = join(w, 'notdb.db');
  writeFileSync(notdb, Buffer.alloc(8192, 0x41));
  const dbdir = join(w, 'dbdir');
  mkdirSync(dbdir);
  const newer = join(w, 'newer.db');
  const n = new Database(newer);
  n.pragma('user_version = 99');
  n.close();
  const other = join(w, 'other.db');
  const o = new Database(other);
  o.exec('CREATE TABLE songs (title TEXT)');
  o.close();
  // a real run, then copies with a damaged run.json and without images.json
  const db = join(w, 'camd.db');
  const run = join(w, 'run');
  const r = camd(['pretrain', ...MICRO, '--data', data, '--steps', '2', '--out', run, '--db', db]);
  if (r.status !== 0) throw new Error(r.stderr);
  const damaged = join(w, 'run-damaged');
  cpSync(run, damaged, { recursive: true });
  writeFileSync(join(damaged, 'run.json'), '{"format": "camd-run", "vers');
  const noImages = join(w, 'run-noimages');
  cpSync(run, noImages, { recursive: true });
  rmSync(join(noImages, 'images.json'));
  const ckpt = join(run, 'checkpoints', 'step-00000002.ckpt');
  const out = (name: string) => join(w, 'out', name);
  const P = (name: string, args: string[], code: number, message: RegExp, extra: Partial<Case> = {}) =>
    cases.push({
      name,
      args: ['pretrain', ...MICRO, '--data', data, '--steps', '2', ...args],
      code,
      message,
      json: true,
      ...extra,
    });
  P(
    '--out on a read-only file system',
    ['--out', `${mnt}/run`, '--db', db],
    2,
    /^cannot create the run folder .*\/tmpfs-[^/]+\/run: the file system is read-only$/,
    { needsRo: true },
  );
  P(
    '--db on a read-only file system',
    ['--out', out('a'), '--db', `${mnt}/camd.db`],
    2,
    /^cannot open the store .*\/camd\.db: it cannot be opened or created/,
    { needsRo: true },
  );
  P(
    '--db whose folder cannot be created',
    ['--out', out('b'), '--db', `${mnt}/sub/camd.db`],
    2,
    /^cannot create the folder of the store .*\/sub\/camd\.db: the file system is read-only$/,
    { needsRo: true },
  );
  P(
    '--db that is not SQLite',
    ['--out', out('c'), '--db', notdb],
    2,
    /^cannot open the store .*notdb\.db: it is not an SQLite database \(not a CAMD store\); use another --db$/,
  );
  P('--db that is a folder', ['--out', out('d'), '--db', dbdir], 2, /dbdir is a folder; --db names the store file/);
  P(
    '--db from a newer version',
    ['--out', out('e'), '--db', newer],
    2,
    /has schema version 99, newer than this trainer understands/,
  );
  P(
    '--db of another application',
    ['--out', out('f'), '--db', other],
    2,
    /is an SQLite database of another application, not a CAMD store/,
  );
  P(
    '--db under a file',
    ['--out', out('g'), '--db', join(afile, 'camd.db')],
    2,
    /^cannot create the folder of the store .*: a part of the path is a file, not a folder$/,
  );
  P('--out onto a file', ['--out', afile, '--db', db], 2, /^--out .*afile is a file, not a folder$/);
  P('--img-size the preset cannot use', ['--img-size', '50', '--out', out('h'), '--db', db], 2, /50/);
  P('--stop-at 0', ['--stop-at', '0', '--out', out('i'), '--db', db], 2, /^--stop-at must be an integer of at least 1/);
  P('an unknown flag', ['--frobnicate'], 2, /^unknown option '--frobnicate'/);
  P(
    'ViT-B past the wasm heap (4 GB) even recomputed',
    ['--preset', 'base', '--batch', '32', '--backend', 'wasm', '--out', out('n'), '--db', db],
    2,
    /^base\/224 at batch 32 needs about 7\.1 GB of wasm memory even with activations recomputed \(.*\); the wasm backend can use at most 4\.2 GB: use --batch 16 or less, --img-size 112, --preset small, or a GPU backend/,
  );
  P(
    'ViT-B that fits only recomputed, with --recompute off',
    ['--preset', 'base', '--batch', '16', '--backend', 'wasm', '--recompute', 'off', '--out', out('o'), '--db', db],
    2,
    /^base\/224 at batch 16 needs about [\d.]+ GB of wasm memory \(.*\); the wasm backend can use at most 4\.2 GB: use --recompute auto, --batch 4 or less/,
  );
  P('--recompute sometimes', ['--recompute', 'sometimes', '--out', out('p'), '--db', db], 2, /recompute/);
  P('a missing --data folder', ['--data', join(w, 'nope'), '--out', out('j'), '--db', db], 2, /does not exist$/);
  cases.push({
    name: '--resume with a damaged run.json',
    args: ['pretrain', '--resume', damaged],
    code: 2,
    message: /run\.json is damaged: not valid JSON/,
    json: true,
  });
  cases.push({
    name: '--resume without images.json',
    args: ['pretrain', '--resume', noImages],
    code: 2,
    message: /images\.json is missing: the run's image list is lost/,
    json: true,
  });
  cases.push({
    name: '--resume of a missing folder',
    args: ['pretrain', '--resume', join(w, 'nope')],
    code: 2,
    message: /does not exist$/,
    json: true,
  });
  const F = (name: string, args: string[], code: number, message: RegExp, extra: Partial<Case> = {}) =>
    cases.push({
      name: `finetune ${name}`,
      args: ['finetune', '--task', 'fer', '--format', 'folders', '--data', data, '--preset', 'micro', ...args],
      code,
      message,
      json: true,
      ...extra,
    });
  F('--out onto a file', ['--init', 'none', '--out', afile, '--db', db], 2, /is a file, not a folder$/);
  F(
    '--out on a read-only file system',
    ['--init', 'none', '--out', `${mnt}/ft`, '--db', db],
    2,
    /^cannot create the run folder .*: the file system is read-only$/,
    { needsRo: true },
  );
  F('--db that is not SQLite', ['--init', 'none', '--out', out('k'), '--db', notdb], 2, /not an SQLite database/);
  cases.push({
    name: 'finetune --init of a missing file',
    args: [
      'finetune',
      '--task',
      'fer',
      '--format',
      'folders',
      '--data',
      data,
      '--init',
      join(w, 'nope.ckpt'),
      '--out',
      out('l'),
      '--db',
      db,
    ],
    code: 2,
    message: /does not exist/,
    json: true,
  });
  cases.push({
    name: 'eval of a missing checkpoint',
    args: ['eval', '--checkpoint', join(w, 'nope'), '--task', 'fer', '--format', 'folders', '--data', data, '--db', db],
    code: 2,
    message: /does not exist/,
    json: true,
  });
  cases.push({
    name: 'scan of a missing folder',
    args: ['scan', join(w, 'nope'), '--db', db],
    code: 2,
    message: /does not exist/,
    json: true,
  });
  cases.push({
    name: 'scan into a store that is a folder',
    args: ['scan', data, '--db', dbdir],
    code: 2,
    message: /is a folder; --db names the store file/,
    json: true,
  });
  cases.push({
    name: 'scan into a read-only store folder',
    args: ['scan', data, '--db', `${mnt}/camd.db`],
    code: 2,
    message: /cannot open the store/,
    json: true,
    needsRo: true,
  });
  cases.push({
    name: 'export safetensors into a missing folder',
    args: ['export', '--checkpoint', ckpt, '--format', 'safetensors', '--out', join(w, 'missing', 'x.safetensors')],
    code: 2,
    message: /the folder .*missing does not exist$/,
  });
  cases.push({
    name: 'export safetensors onto a folder',
    args: ['export', '--checkpoint', ckpt, '--format', 'safetensors', '--out', dbdir],
    code: 2,
    message: /is a folder; safetensors export writes one file/,
  });
  cases.push({
    name: 'export tfjs onto a file',
    args: ['export', '--checkpoint', ckpt, '--format', 'tfjs', '--out', afile],
    code: 2,
    message: /is a file; tfjs export writes a folder/,
  });
  cases.push({
    name: 'export onto a read-only file system',
    args: ['export', '--checkpoint', ckpt, '--format', 'safetensors', '--out', `${mnt}/x.safetensors`],
    code: 2,
    message: /cannot write in .*tmpfs-[^/]+: the file system is read-only$/,
    needsRo: true,
  });
  cases.push({
    name: 'see --out on a read-only file system',
    args: [
      'see',
      '--checkpoint',
      ckpt,
      '--image',
      join(data, readdirSync(data)[0]!),
      '--out',
      `${mnt}/see`,
      '--backend',
      'cpu',
    ],
    code: 2,
    message: /^cannot create the folder .*\/tmpfs-[^/]+\/see: the file system is read-only$/,
    json: true,
    needsRo: true,
  });
  cases.push({
    name: 'cluster-pack --out on a read-only file system',
    args: ['cluster-pack', run, '--out', `${mnt}/pack`],
    code: 2,
    message: /^cannot create the folder .*\/tmpfs-[^/]+\/pack: the file system is read-only$/,
    json: true,
    needsRo: true,
  });
  cases.push({
    name: 'scan --faces-out on a read-only file system',
    args: ['scan', data, '--faces', '--faces-out', `${mnt}/crops`, '--db', db],
    code: 2,
    message: /^cannot create the crops folder .*\/tmpfs-[^/]+\/crops: the file system is read-only$/,
    json: true,
    needsRo: true,
  });
  cases.push({
    name: 'export of a file that is not a checkpoint',
    args: ['export', '--checkpoint', afile, '--format', 'tfjs', '--out', out('m')],
    code: 2,
    message: /is not a usable CAMD checkpoint/,
  });
  cases.push({
    name: 'selftest with an unknown preset',
    args: ['selftest', '--preset', 'gigantic'],
    code: 2,
    message: /--preset must be one of/,
    json: true,
  });
  cases.push({
    name: 'info with an unknown flag',
    args: ['info', '--verbose'],
    code: 2,
    message: /^unknown option '--verbose'/,
    json: true,
  });
  cases.push({ name: 'an unknown command', args: ['pretrian'], code: 2, message: /^unknown command 'pretrian'/ });
}, 120_000);

afterAll(() => {
  if (ro) unmount(ro);
});

describe('hostile arguments to every command', () => {
  it('each is one plain line with the documented exit code, and an error event with --json; no stack trace anywhere', async (ctx) => {
    if (!ro) console.warn(`read-only cases skipped: cannot mount a read-only tmpfs here (${roWhy})`);
    const run = cases.filter((c) => ro || !c.needsRo);
    expect(run.length).toBeGreaterThan(25);
    // two commands at a time (each mostly loads modules: half a second or so)
    const results = await mapConcurrent(run, 2, async (c) => {
      const human = await camdLive(c.args).done;
      const json = c.json ? await camdLive([...c.args, '--json']).done : null;
      return { c, human, json };
    });
    const problems: string[] = [];
    for (const { c, human, json } of results) {
      const lines = human.stderr.trim().split('\n');
      if (human.status !== c.code)
        problems.push(`${c.name}: exit ${human.status}, expected ${c.code}: ${human.stderr}`);
      if (lines.length !== 1 || !lines[0]!.startsWith('camd: '))
        problems.push(`${c.name}: expected one line, got: ${human.stderr}`);
      else if (
        !c.message.test(
          lines[0]!.slice('camd: '.length).replace(/ \(camd [a-z]+ --help lists the (flags|commands)\)$/, ''),
        )
      )
        problems.push(`${c.name}: message ${lines[0]} does not match ${c.message}`);
      if (!noStack(human.stderr + human.stdout)) problems.push(`${c.name}: stack trace`);
      if (json) {
        if (json.status !== c.code) problems.push(`${c.name} --json: exit ${json.status}`);
        const out = json.stdout.trim().split('\n').filter(Boolean);
        const last = out.length
          ? (JSON.parse(out[out.length - 1]!) as { type: string; message: string; cause: string })
          : null;
        if (last?.type !== 'error' || !c.message.test(last.message))
          problems.push(`${c.name} --json: last line ${out[out.length - 1]}`);
        if (!noStack(json.stderr + json.stdout)) problems.push(`${c.name} --json: stack trace`);
      }
    }
    expect(problems).toEqual([]);
    if (!ro) ctx.annotate?.('read-only cases skipped');
  }, 300_000);
});

describe('the command line itself', () => {
  it('--version, and unknown commands and flags exit 2 with one line', () => {
    const v = camd(['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const u = camd(['pretrain', '--batchsize', '4']);
    expect(u.status).toBe(2);
    expect(u.stderr.trim().split('\n')).toHaveLength(1);
    expect(u.stderr.trim()).toMatch(/^camd: unknown option '--batchsize' .*\(camd pretrain --help lists the flags\)$/);
  });

  it('a refused flag with `--data sample` is refused before any sample face is looked for', () => {
    const dir = tempDir('sample-refused');
    const r = camd(['pretrain', '--data', 'sample', '--batch', '0', '--db', join(dir, 'camd.db')]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim()).toBe('camd: --batch must be an integer of at least 1 (images per step), got 0');
    // the sample photographs are copied beside the store before their faces are found: nothing was
    expect(readdirSync(dir)).toEqual([]);
  });

  it('`npm run -s camd -- info --json` prints JSON only (npm run without -s prints its banner)', () => {
    const r = spawnSync('npm', ['run', '-s', 'camd', '--', 'info', '--json'], {
      encoding: 'utf8',
      cwd: join(import.meta.dirname, '..', '..'),
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as Record<string, { loaded: boolean }>;
    expect(info['wasm']!.loaded).toBe(true);
  });
});
