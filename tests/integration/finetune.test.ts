// `camd finetune` and `camd eval` through the real CLI, on rendered faces whose labels are known.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { CELEBA_ATTRIBUTES } from '../../trainer/src/labels/label-files.js';
import { RunEvent } from '../../trainer/src/protocol/events.js';
import { attributeCsv, expressionFolders } from '../support/rendered-faces.js';
import { tempDir } from '../support/folders.js';
import { Store } from '../../trainer/src/store/store.js';
import * as L from '../../trainer/src/labels/index.js';
import { readTensorFile } from '../../trainer/src/store/checkpoint.js';
import { CLASSIFIER_FORMAT } from '../../trainer/src/finetune/classifier-file.js';
import { Classifier } from '../../trainer/src/finetune/classifier.js';
import { presetConfig } from '../../trainer/src/model/config.js';
import { selectBackend } from '../../trainer/src/backends/ladder.js';

const CAMD = fileURLToPath(new URL('../../trainer/bin/camd.js', import.meta.url));

type Ev = { type: string; [k: string]: unknown };
function camd(args: string[]): { status: number | null; events: Ev[]; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [CAMD, ...args], { encoding: 'utf8', timeout: 600_000 });
  const events = args.includes('--json')
    ? r.stdout
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => RunEvent.parse(JSON.parse(l)) as Ev)
    : []; // every line is a valid event
  return { status: r.status, events, stderr: r.stderr, stdout: r.stdout };
}
const of = (evs: Ev[], t: string) => evs.filter((e) => e.type === t);

let folders: string;
beforeAll(async () => {
  folders = await expressionFolders(80, 1); // 240 rendered faces, 3 expressions
});

/** The same faces in the RAF-DB basic layout (smile → Happy, frown → Sad, surprise → Surprise). */
function rafdbLayout(src: string): string {
  const root = tempDir('rafdb');
  mkdirSync(join(root, 'Image', 'aligned'), { recursive: true });
  mkdirSync(join(root, 'EmoLabel'));
  const label: Record<string, number> = { smile: 4, frown: 5, surprise: 1 };
  const lines: string[] = [];
  let n = 0;
  for (const e of ['smile', 'frown', 'surprise']) {
    readdirSync(join(src, e)).forEach((f, i) => {
      const split = i % 5 === 0 ? 'test' : 'train';
      const stem = `${split}_${String(++n).padStart(5, '0')}`;
      copyFileSync(join(src, e, f), join(root, 'Image', 'aligned', `${stem}_aligned.jpg`)); // PNG bytes, decoded by content
      lines.push(`${stem}.jpg ${label[e]}`);
    });
  }
  writeFileSync(join(root, 'EmoLabel', 'list_patition_label.txt'), `${lines.join('\n')}\n`);
  return root;
}

describe('camd finetune', () => {
  it("labels made in the app train with --format store: the schema by name, people's labels only, a stratified split kept in the store", () => {
    const db = join(tempDir('db'), 'camd.db');
    const scan = camd(['scan', folders, '--db', db]);
    expect(scan.status, scan.stderr).toBe(0);
    const store = new Store(db);
    const d = store.datasetByRoot(folders)!;
    const s = L.createSchema(store.db, {
      datasetId: d.id,
      name: 'expressions',
      task: 'fer',
      names: ['smile', 'frown', 'surprise'],
    });
    const byName = new Map(s.fields.map((f) => [f.name, f.id]));
    const images = store.images(d.id, 'ok');
    for (const im of images)
      L.writeLabels(store.db, {
        schemaId: s.id,
        imageIds: [im.id],
        labeller: 'ana',
        changes: [{ slot: 0, value: byName.get(im.rel_path.split('/')[0]!)! }],
      });
    // a model's accepted guess is not a label for training unless asked
    store.createRun({ id: 'guesser', kind: 'finetune', config: {}, seed: 0 });
    const spare = images.slice(0, 5).map((im) => im.id);
    L.writeLabels(store.db, {
      schemaId: s.id,
      imageIds: spare,
      labeller: 'ben',
      changes: [{ slot: 0, value: byName.get('smile')! }],
      source: 'accepted',
      runId: 'guesser',
    });
    store.close();
    const missing = camd([
      'finetune',
      '--task',
      'fer',
      '--format',
      'store',
      '--data',
      folders,
      '--init',
      'none',
      '--db',
      db,
      '--out',
      join(tempDir('run'), 'x'),
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe(
      'camd: --schema is required with --format store (the label schema: its name or id)',
    );
    const wrong = camd([
      'finetune',
      '--task',
      'fer',
      '--format',
      'store',
      '--schema',
      'poses',
      '--data',
      folders,
      '--init',
      'none',
      '--db',
      db,
      '--out',
      join(tempDir('run'), 'y'),
    ]);
    expect(wrong.stderr.trim()).toBe(`camd: the dataset ${folders} has no label schema 'poses' (it has 'expressions')`);
    const r = camd([
      'finetune',
      '--json',
      '--task',
      'fer',
      '--format',
      'store',
      '--schema',
      'expressions',
      '--data',
      folders,
      '--init',
      'none',
      '--preset',
      'micro',
      '--epochs',
      '1',
      '--batch',
      '16',
      '--aa',
      'none',
      '--out',
      join(tempDir('run'), 'ft'),
      '--db',
      db,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(of(r.events, 'start')[0]).toMatchObject({ format: 'store', classes: 3, train: 192, val: 24, test: 24 });
    expect(
      of(r.events, 'log').some((e) =>
        /240 labelled face\(s\) had no split: assigned from seed 0/.test(String(e.message)),
      ),
    ).toBe(true);
    const after = new Store(db);
    // the split is the store's: 8/8 per class in val and test
    expect(L.splitCounts(after.db, s.id, true).byClass).toEqual({
      smile: { train: 64, val: 8, test: 8 },
      frown: { train: 64, val: 8, test: 8 },
      surprise: { train: 64, val: 8, test: 8 },
    });
    const run = after.db
      .prepare("SELECT config FROM runs WHERE kind = 'finetune' AND id != 'guesser'")
      .pluck()
      .get() as string;
    expect(JSON.parse(run)).toMatchObject({
      format: 'store',
      schema_id: s.id,
      field_ids: s.fields.map((f) => f.id),
      labels: 'human',
      names: ['smile', 'frown', 'surprise'],
    });
    after.close();
  });

  it('from random init learns the expressions of held-out rendered faces clearly above chance', () => {
    const db = join(tempDir('db'), 'camd.db');
    const r = camd([
      'finetune',
      '--json',
      '--task',
      'fer',
      '--format',
      'folders',
      '--data',
      folders,
      '--init',
      'none',
      '--preset',
      'micro',
      '--epochs',
      '16',
      '--batch',
      '16',
      '--blr',
      '0.032',
      '--warmup-epochs',
      '1',
      '--aa',
      'none',
      '--reprob',
      '0',
      '--min-crop-scale',
      '0.6',
      '--drop-path',
      '0',
      '--layer-decay',
      '0.9',
      '--out',
      join(tempDir('run'), 'ft'),
      '--db',
      db,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const start = of(r.events, 'start')[0]!;
    expect(start).toMatchObject({ task: 'fer', classes: 3, train: 192, val: 24, test: 24 });
    const done = of(r.events, 'done')[0]!;
    expect(done.selected_by).toBe('val');
    // chance is 1/3; a micro ViT from scratch on 192 rendered faces, light augmentation
    expect(done.test_at_selected as number).toBeGreaterThan(0.55);
    expect(done.best_test as number).toBeGreaterThan(0.7);
    // every epoch evaluated on val and test, recorded in the store with the selected epoch
    expect(of(r.events, 'eval')).toHaveLength(32);
    const sql = new Database(db, { readonly: true });
    const sel = sql
      .prepare("SELECT epoch, value, detail FROM evaluations WHERE selected = 1 AND split = 'test'")
      .get() as { epoch: number; value: number; detail: string };
    expect(sel.epoch).toBe(done.selected_epoch);
    expect(JSON.parse(sel.detail).confusion).toHaveLength(3);
    expect((sql.prepare("SELECT count(*) AS n FROM labels WHERE task = 'fer'").get() as { n: number }).n).toBe(240);
    sql.close();
  });

  it('pre-train → fine-tune on a RAF-DB layout (no val split: evaluates on test) → camd eval reproduces the number', () => {
    const raf = rafdbLayout(folders);
    const db = join(tempDir('db'), 'camd.db');
    const pre = camd([
      'pretrain',
      '--json',
      '--data',
      join(raf, 'Image'),
      '--preset',
      'micro',
      '--batch',
      '8',
      '--steps',
      '6',
      '--blr',
      '0.05',
      '--warmup-epochs',
      '0',
      '--out',
      join(tempDir('run'), 'pre'),
      '--db',
      db,
    ]);
    expect(pre.status, pre.stderr).toBe(0);
    const encoder = of(pre.events, 'done')[0]!.encoder as string;
    const ft = camd([
      'finetune',
      '--json',
      '--task',
      'fer',
      '--format',
      'rafdb',
      '--data',
      raf,
      '--init',
      encoder,
      '--img-size',
      '48',
      '--epochs',
      '2',
      '--batch',
      '16',
      '--out',
      join(tempDir('run'), 'raf'),
      '--db',
      db,
    ]);
    expect(ft.status, ft.stderr).toBe(0);
    const start = of(ft.events, 'start')[0]!;
    expect(start).toMatchObject({ classes: 7, val: 0, test: 48 });
    expect(start.pos_embed).toMatch(/recomputed for 6×6 \(was 4×4\)/);
    expect(of(ft.events, 'eval').every((e) => e.split === 'test')).toBe(true);
    const done = of(ft.events, 'done')[0]!;
    expect(done.selected_by).toBe('last');
    const ev = camd([
      'eval',
      '--json',
      '--checkpoint',
      done.checkpoint as string,
      '--task',
      'fer',
      '--format',
      'rafdb',
      '--data',
      raf,
      '--db',
      db,
    ]);
    expect(ev.status, ev.stderr).toBe(0);
    const res = of(ev.events, 'done')[0] as unknown as { results: { test: { value: number; n: number } } };
    expect(of(ev.events, 'eval')).toMatchObject([{ epoch: null, split: 'test', n: 48 }]);
    expect(res.results.test.n).toBe(48);
    expect(res.results.test.value).toBeCloseTo(done.test_at_selected as number, 6);
    const sql = new Database(db, { readonly: true });
    const kinds = (
      sql.prepare('SELECT kind, parent_run_id FROM runs ORDER BY created_at').all() as {
        kind: string;
        parent_run_id: string | null;
      }[]
    ).map((r) => r.kind);
    expect(kinds).toEqual(['pretrain', 'finetune', 'eval']);
    sql.close();
  });

  it('multi-label attributes from a CSV, a linear probe and a few-shot subset', async () => {
    const csvRoot = await attributeCsv(60, 2);
    const db = join(tempDir('db'), 'camd.db');
    const far = camd([
      'finetune',
      '--json',
      '--task',
      'far',
      '--format',
      'csv',
      '--data',
      csvRoot,
      '--init',
      'none',
      '--preset',
      'micro',
      '--epochs',
      '2',
      '--batch',
      '8',
      '--linear-probe',
      '--few-shot',
      '0.5',
      '--out',
      join(tempDir('run'), 'far'),
      '--db',
      db,
    ]);
    expect(far.status, far.stderr).toBe(0);
    const start = of(far.events, 'start')[0]!;
    expect(start).toMatchObject({ task: 'far', classes: 2, linear_probe: true, train: 24 }); // ⌊0.5 · 48⌋
    expect(of(far.events, 'eval').every((e) => e.metric === 'mean_acc')).toBe(true);
    expect(of(far.events, 'progress').some((e) => e.phase === 'features')).toBe(true);
    // a linear probe trains the head only: the saved encoder is the initial one to the bit (the
    // run's seed 0 and --init none give the classifier built here), the head is not
    const done = of(far.events, 'done')[0] as unknown as { checkpoint: string; run_id?: string };
    const saved = readTensorFile(done.checkpoint, CLASSIFIER_FORMAT).tensors;
    await selectBackend('cpu');
    const init = new Classifier({ model: presetConfig('micro').model, outputs: 2, dropPath: 0 }, 0);
    const encoderNames = init.params.names().filter((n) => !n.startsWith('head.') && !n.startsWith('fc_norm.'));
    expect(encoderNames.length).toBeGreaterThan(10);
    for (const n of encoderNames)
      expect(Array.from(saved.get(n)!.data), n).toEqual(Array.from(init.params.get(n).dataSync()));
    expect(Array.from(saved.get('head.weight')!.data)).not.toEqual(
      Array.from(init.params.get('head.weight').dataSync()),
    );
    init.dispose();
    // and the store records it with its own kind (a completed run keeps no separate 'last' state)
    const runId = (of(far.events, 'start')[0] as unknown as { run_id: string }).run_id;
    const kinds = new Database(db, { readonly: true })
      .prepare('SELECT kind, path FROM checkpoints WHERE run_id = ? ORDER BY kind')
      .all(runId) as { kind: string; path: string }[];
    expect(kinds).toEqual([{ kind: 'classifier', path: done.checkpoint }]);
  });

  it('a CelebA-layout folder parses, trains and records per-attribute accuracy; wrong inputs are one line', async () => {
    const src = await attributeCsv(24, 3);
    const root = tempDir('celeba');
    mkdirSync(join(root, 'img_align_celeba'), { recursive: true });
    mkdirSync(join(root, 'Anno'));
    mkdirSync(join(root, 'Eval'));
    const rows: string[] = [];
    const parts: string[] = [];
    const csv = (await import('node:fs')).readFileSync(join(src, 'labels.csv'), 'utf8').trim().split('\n').slice(1);
    csv.forEach((line, i) => {
      const [file, smiling, glasses] = line.split(',');
      const name = `${String(i + 1).padStart(6, '0')}.jpg`;
      copyFileSync(join(src, file!), join(root, 'img_align_celeba', name));
      const v = CELEBA_ATTRIBUTES.map((a) => (a === 'Smiling' ? smiling : a === 'Eyeglasses' ? glasses : '-1'));
      rows.push(`${name} ${v.join(' ')}`);
      parts.push(`${name} ${i % 6 === 0 ? 2 : i % 6 === 1 ? 1 : 0}`);
    });
    writeFileSync(
      join(root, 'Anno', 'list_attr_celeba.txt'),
      `${rows.length}\n${CELEBA_ATTRIBUTES.join(' ')}\n${rows.join('\n')}\n`,
    );
    writeFileSync(join(root, 'Eval', 'list_eval_partition.txt'), `${parts.join('\n')}\n`);
    const db = join(tempDir('db'), 'camd.db');
    const r = camd([
      'finetune',
      '--json',
      '--task',
      'far',
      '--format',
      'celeba',
      '--data',
      root,
      '--init',
      'none',
      '--preset',
      'micro',
      '--epochs',
      '1',
      '--batch',
      '8',
      '--out',
      join(tempDir('run'), 'celeba'),
      '--db',
      db,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(of(r.events, 'start')[0]).toMatchObject({ classes: 40, train: 16, val: 4, test: 4 });
    const sql = new Database(db, { readonly: true });
    const d = JSON.parse(
      (sql.prepare("SELECT detail FROM evaluations WHERE split = 'test' LIMIT 1").get() as { detail: string }).detail,
    ) as { per_attribute: Record<string, number> };
    expect(Object.keys(d.per_attribute)).toHaveLength(40);
    expect(Object.values(d.per_attribute).every((v) => v >= 0 && v <= 1)).toBe(true);
    sql.close();
    const bad = camd(['finetune', '--task', 'fer', '--format', 'celeba', '--data', root, '--init', 'none', '--db', db]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('camd: the celeba labels are attributes (far), not fer');
    const noinit = camd([
      'finetune',
      '--task',
      'far',
      '--format',
      'celeba',
      '--data',
      root,
      '--init',
      '/no/such.ckpt',
      '--db',
      db,
    ]);
    expect(noinit.status).toBe(2);
    expect(noinit.stderr.trim()).toBe('camd: checkpoint /no/such.ckpt does not exist');
  });
});
