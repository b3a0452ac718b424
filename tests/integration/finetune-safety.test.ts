// Fine-tuning under stops, full disks and imperfect label files, through the real CLI.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { expressionFolders } from '../support/rendered-faces.js';
import { tempDir } from '../support/folders.js';
import { camd, camdLive, of, sql } from '../support/cli.js';
import { withTmpfs } from '../support/tmpfs.js';
import { RunEvent } from '../../trainer/src/protocol/events.js';
import { readTensorFile } from '../../trainer/src/store/checkpoint.js';

let folders: string;
beforeAll(async () => {
  folders = await expressionFolders(20, 2); // 60 rendered faces, 3 expressions
});

const FT = [
  '--task',
  'fer',
  '--format',
  'folders',
  '--init',
  'none',
  '--preset',
  'micro',
  '--aa',
  'none',
  '--reprob',
  '0',
  '--warmup-epochs',
  '0',
];

describe('camd finetune stops like pre-training', () => {
  it('Ctrl-C finishes the step, writes last.safetensors, records the run as stopped and exits 0; a second process on the folder is refused', async () => {
    const out = join(tempDir('run'), 'ft-stop');
    const db = join(tempDir('db'), 'camd.db');
    let busy: ReturnType<typeof camd> | null = null;
    const live = camdLive(
      ['finetune', '--json', ...FT, '--data', folders, '--epochs', '200', '--batch', '8', '--out', out, '--db', db],
      (e, pid) => {
        if (e.type === 'step' && e['step'] === 3 && !busy) {
          busy = camd(['finetune', ...FT, '--data', folders, '--epochs', '1', '--out', out, '--db', db]);
          process.kill(pid, 'SIGINT');
        }
      },
    );
    const r = await live.done;
    expect(r.status, r.stderr).toBe(0);
    for (const e of r.events) RunEvent.parse(e); // every line is a valid event
    const done = of(r.events, 'done')[0]!;
    expect(done).toMatchObject({ reason: 'interrupted', last: join(out, 'last.safetensors') });
    expect(readTensorFile(join(out, 'last.safetensors'), 'camd-classifier').tensors.has('head.weight')).toBe(true);
    expect(sql<{ status: string }>(db, 'SELECT status FROM runs')).toEqual([{ status: 'stopped' }]);
    expect(sql<{ kind: string; path: string }>(db, "SELECT kind, path FROM checkpoints WHERE kind = 'last'")).toEqual([
      { kind: 'last', path: join(out, 'last.safetensors') },
    ]);
    const b = busy as unknown as ReturnType<typeof camd>;
    expect(b.status).toBe(2);
    expect(b.stderr.trim()).toMatch(/is in use by process \d+ on .* \(camd finetune, since/);
    // the folder now holds a run
    const again = camd(['finetune', ...FT, '--data', folders, '--epochs', '1', '--out', out, '--db', db]);
    expect(again.status).toBe(2);
    expect(again.stderr.trim()).toBe(`camd: ${out} already holds a fine-tuning run; choose another --out`);
    // nor does a run of the other kind go into it, or this one into a pre-training run's folder
    const events = readFileSync(join(out, 'events.jsonl'), 'utf8');
    const pre = camd([
      'pretrain',
      '--preset',
      'micro',
      '--batch',
      '4',
      '--data',
      folders,
      '--steps',
      '1',
      '--out',
      out,
      '--db',
      db,
    ]);
    expect([pre.status, pre.stderr.trim()]).toEqual([2, `camd: ${out} holds a fine-tuning run; choose another --out`]);
    expect(readFileSync(join(out, 'events.jsonl'), 'utf8')).toBe(events);
    expect(readdirSync(out).sort()).not.toContain('checkpoints');
    const preOut = join(tempDir('run'), 'pre');
    expect(
      camd([
        'pretrain',
        '--preset',
        'micro',
        '--batch',
        '4',
        '--data',
        folders,
        '--steps',
        '1',
        '--out',
        preOut,
        '--db',
        db,
      ]).status,
    ).toBe(0);
    const preEvents = readFileSync(join(preOut, 'events.jsonl'), 'utf8');
    const into = camd(['finetune', ...FT, '--data', folders, '--epochs', '1', '--out', preOut, '--db', db]);
    expect([into.status, into.stderr.trim()]).toEqual([
      2,
      `camd: ${preOut} holds a pre-training run; choose another --out (to fine-tune its encoder: --init ${join(preOut, 'encoder.safetensors')})`,
    ]);
    expect(readFileSync(join(preOut, 'events.jsonl'), 'utf8')).toBe(preEvents);
    expect(readdirSync(preOut)).not.toContain('finetune.json');
  });

  it('a full disk while writing best.safetensors fails the run with one line and exit 4', (ctx) => {
    // room for the run's small files, not for a classifier (~130 KB)
    withTmpfs('size=96k', ctx, (mnt) => {
      const db = join(tempDir('db'), 'camd.db');
      const r = camd([
        'finetune',
        '--json',
        ...FT,
        '--data',
        folders,
        '--epochs',
        '2',
        '--batch',
        '16',
        '--out',
        join(mnt, 'ft'),
        '--db',
        db,
      ]);
      expect(r.status, r.stderr).toBe(4);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(
        /^camd: disk full while writing .*best\.safetensors \(no partial file was left\) \(at step \d+\)$/,
      );
      expect(of(r.events, 'error').pop()).toMatchObject({ cause: 'disk-full' });
      const row = sql<{ status: string; error: string }>(db, 'SELECT status, error FROM runs')[0]!;
      expect(row.status).toBe('failed');
      expect(row.error).toMatch(/disk full/);
      expect(readdirSync(join(mnt, 'ft')).filter((f) => f.includes('.tmp-'))).toEqual([]);
    });
  });
});

describe('what fine-tuning tells about its data', () => {
  it('a small training split keeps its last partial batch; a larger one says how many images sit out each epoch', () => {
    const db = join(tempDir('db'), 'camd.db');
    // 60 faces → 48 train (seeded 80/10/10); batch 32: one full batch, 16 left over → kept
    const small = camd([
      'finetune',
      '--json',
      ...FT,
      '--data',
      folders,
      '--epochs',
      '1',
      '--batch',
      '32',
      '--out',
      join(tempDir('run'), 'p1'),
      '--db',
      db,
    ]);
    expect(small.status, small.stderr).toBe(0);
    expect(of(small.events, 'start')[0]).toMatchObject({
      train: 48,
      batch: 32,
      steps_per_epoch: 2,
      dropped_per_epoch: 0,
    });
    expect(of(small.events, 'log').map((e) => e['message'])).toContain(
      '48 training images are not a multiple of the batch 32: each epoch ends with a batch of 16 (kept: the set is smaller than 4 batches)',
    );
    const five = camd([
      'finetune',
      '--json',
      ...FT,
      '--data',
      folders,
      '--epochs',
      '1',
      '--batch',
      '10',
      '--out',
      join(tempDir('run'), 'p2'),
      '--db',
      db,
    ]);
    expect(five.status, five.stderr).toBe(0);
    expect(of(five.events, 'start')[0]).toMatchObject({ steps_per_epoch: 4, dropped_per_epoch: 8 });
    expect(of(five.events, 'log').map((e) => e['message'])).toContain(
      'each epoch leaves out 8 of 48 training images (the last partial batch is dropped, as in the reference recipe; a different 8 each epoch)',
    );
  });

  it('label files: listed images that are missing are named; a class folder without images is not a class; a conflicting duplicate is refused naming both lines', () => {
    const db = join(tempDir('db'), 'camd.db');
    // folders + an annotation folder without images (as RAF-DB's EmoLabel/)
    const root = tempDir('ft-folders');
    cpSync(folders, root, { recursive: true });
    mkdirSync(join(root, 'EmoLabel'));
    writeFileSync(join(root, 'EmoLabel', 'notes.txt'), 'labels live elsewhere\n');
    const f = camd([
      'finetune',
      '--json',
      ...FT,
      '--data',
      root,
      '--epochs',
      '1',
      '--batch',
      '16',
      '--out',
      join(tempDir('run'), 'l1'),
      '--db',
      db,
    ]);
    expect(f.status, f.stderr).toBe(0);
    expect(of(f.events, 'start')[0]).toMatchObject({ classes: 3 });
    expect(f.stderr).toMatch(/camd: warning: folder\(s\) without images, not classes: EmoLabel\//);
    // a CSV naming missing images, with padded and case-varied class names, an absolute path inside the root
    const csvRoot = tempDir('ft-csv');
    cpSync(folders, csvRoot, { recursive: true });
    const rows = ['path,label'];
    for (const e of ['smile', 'frown', 'surprise'])
      for (const file of readdirSync(join(csvRoot, e))) rows.push(`${e}/${file},${e === 'smile' ? ' smile' : e}`);
    rows[1] = `${join(csvRoot, rows[1]!.split(',')[0]!)},smile`; // absolute, inside the root
    rows.push('gone/a.png,smile', 'gone/b.png,frown', 'gone/c.png,Frown');
    writeFileSync(join(csvRoot, 'labels.csv'), `${rows.join('\n')}\n`);
    const c = camd([
      'finetune',
      '--json',
      ...FT.map((a) => (a === 'folders' ? 'csv' : a)),
      '--data',
      csvRoot,
      '--epochs',
      '1',
      '--batch',
      '16',
      '--out',
      join(tempDir('run'), 'l2'),
      '--db',
      db,
    ]);
    expect(c.status, c.stderr).toBe(0);
    const warns = of(c.events, 'log').map((e) => e['message'] as string);
    expect(warns).toContain(
      "classes differ only in case: 'Frown', 'frown' (kept apart; make them equal if they are one class)",
    );
    expect(warns.find((w) => w.includes('missing or unreadable'))).toMatch(
      /^3 listed image\(s\) missing or unreadable, left out: gone\/a\.png \(image not found\), gone\/b\.png \(image not found\), gone\/c\.png \(image not found\)$/,
    );
    expect(of(c.events, 'start')[0]).toMatchObject({ classes: 4, dropped: 3 }); // ' smile' is 'smile'
    // a path out of the root, and a conflicting duplicate
    writeFileSync(join(csvRoot, 'labels.csv'), 'path,label\n../elsewhere.png,smile\n');
    const out = camd([
      'finetune',
      ...FT.map((a) => (a === 'folders' ? 'csv' : a)),
      '--data',
      csvRoot,
      '--epochs',
      '1',
      '--out',
      join(tempDir('run'), 'l3'),
      '--db',
      db,
    ]);
    expect(out.status).toBe(2);
    expect(out.stderr.trim()).toMatch(
      /labels\.csv:2: '\.\.\/elsewhere\.png' is outside the dataset root .*; image paths must be inside it \(relative to it\)$/,
    );
    const smile = readdirSync(join(csvRoot, 'smile'))[0]!;
    writeFileSync(
      join(csvRoot, 'labels.csv'),
      `path,label\nsmile/${smile},smile\nfrown/x.png,frown\nsmile/${smile},frown\n`,
    );
    const dup = camd([
      'finetune',
      ...FT.map((a) => (a === 'folders' ? 'csv' : a)),
      '--data',
      csvRoot,
      '--epochs',
      '1',
      '--out',
      join(tempDir('run'), 'l4'),
      '--db',
      db,
    ]);
    expect(dup.status).toBe(2);
    expect(dup.stderr.trim()).toMatch(
      new RegExp(
        `labels\\.csv:4: smile/${smile.replace('.', '\\.')} is listed twice with different labels \\(class smile vs frown\\): .*labels\\.csv:2 and .*labels\\.csv:4$`,
      ),
    );
    writeFileSync(join(csvRoot, 'labels.csv'), `path,label\nsmile/${smile},\nfrown/x.png,frown\n`);
    const empty = camd([
      'finetune',
      ...FT.map((a) => (a === 'folders' ? 'csv' : a)),
      '--data',
      csvRoot,
      '--epochs',
      '1',
      '--out',
      join(tempDir('run'), 'l5'),
      '--db',
      db,
    ]);
    expect(empty.status).toBe(2);
    expect(empty.stderr.trim()).toMatch(/labels\.csv:2: empty label$/);
  });
});

describe('fine-tuning that fails frees what it allocated', () => {
  it('a diverging run (the loss becomes NaN) stops with its event and leaves no tensor behind; so does a run stopped mid-epoch', async () => {
    const { finetune } = await import('../../trainer/src/finetune/run.js');
    const { selectBackend } = await import('../../trainer/src/backends/ladder.js');
    const tf = await import('@tensorflow/tfjs');
    await selectBackend('wasm');
    const base = {
      task: 'fer' as const,
      format: 'folders' as const,
      data: folders,
      init: 'none' as const,
      preset: 'micro' as const,
      randAugment: 'none' as const,
      reprob: 0,
      warmupEpochs: 0,
      batch: 16,
      db: join(tempDir('db'), 'camd.db'),
      backend: 'wasm' as const,
    };
    const events: { type: string; cause?: string }[] = [];
    // one run first: kernels' first use can keep backend constants for the process's life
    await finetune(
      { ...base, epochs: 1, blr: 1e9, out: join(tempDir('run'), 'warm') },
      () => undefined,
      new AbortController().signal,
    );
    const before = tf.memory().numTensors;
    // a learning rate of 10⁹ sends the weights to ±∞ within a step or two
    const r = await finetune(
      { ...base, epochs: 3, blr: 1e9, out: join(tempDir('run'), 'nan') },
      (e) => events.push(e as { type: string; cause?: string }),
      new AbortController().signal,
    );
    expect(r.outcome).toBe('diverged');
    expect(events.some((e) => e.type === 'error' && e.cause === 'diverged')).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    // stopped on request after its first step
    const stop = new AbortController();
    const r2 = await finetune(
      { ...base, epochs: 3, out: join(tempDir('run'), 'stop') },
      (e) => {
        if ((e as { type: string }).type === 'step') stop.abort();
      },
      stop.signal,
    );
    expect(r2.outcome).toBe('stopped');
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
