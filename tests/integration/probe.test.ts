// The probe monitor in a real pre-training run (metrics in the store at the configured epochs and
// at the end) and `camd probe` comparing checkpoints with an untrained network and raw pixels.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { faceFolder, tempDir } from '../support/folders.js';
import { expressionFolders } from '../support/rendered-faces.js';
import { camd, sql } from '../support/cli.js';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { CLM_DIR } from '../support/fixtures.js';
import { seeFace, teacherTokens } from '../../trainer/src/see/see.js';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { CHECKPOINT_FORMAT, readTensorFile } from '../../trainer/src/store/checkpoint.js';
import { presetConfig } from '../../trainer/src/model/config.js';
import { CamdTrainer } from '../../trainer/src/train/step.js';
import { IDENTITY_GEOMETRY } from '../../trainer/src/model/posembed.js';
import { layerNorm } from '../../trainer/src/model/vit.js';
import { VGGFACE2_MEAN, VGGFACE2_STD } from '../../trainer/src/data/augment.js';

describe('probe', () => {
  it('camd pretrain --probe-data: k-NN and linear-probe metrics of both encoders at every 2nd epoch and at the end; camd probe compares', async () => {
    const data = faceFolder(16, 'probe-faces'); // 16 faces, batch 8: 2 steps an epoch
    const probe = await expressionFolders(12, 3); // 36 rendered faces, 3 expressions
    const db = join(tempDir('db'), 'camd.db');
    const out = join(tempDir('run'), 'pre');
    const r = camd([
      'pretrain',
      '--json',
      '--data',
      data,
      '--preset',
      'micro',
      '--img-size',
      '32',
      '--batch',
      '8',
      '--steps',
      '10',
      '--warmup-epochs',
      '0',
      '--blr',
      '0.05',
      '--out',
      out,
      '--db',
      db,
      '--probe-data',
      probe,
      '--probe-format',
      'folders',
      '--probe-every',
      '2',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const logs = r.events.filter((e) => e.type === 'log' && /^probe at epoch/.test(String(e['message'])));
    // the start (step 0, the references), epochs 2 and 4 (steps 4 and 8), and the end (step 10, epoch 5)
    expect(
      logs.map((e) => /^probe at epoch (\d+) \(step (\d+)\)/.exec(String(e['message']))!.slice(1, 3).join('@')),
    ).toEqual(['0@0', '2@4', '4@8', '5@10']);
    const rows = sql<{ name: string; step: number; value: number }>(
      db,
      "SELECT m.name, m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.out_dir = ? AND m.name LIKE 'probe/%' ORDER BY m.step, m.name",
      out,
    );
    const names = [
      'probe/knn_top1',
      'probe/linear_top1',
      'probe/online_knn_top1',
      'probe/online_linear_top1',
      'probe/seconds',
    ];
    expect([...new Set(rows.map((x) => x.step))]).toEqual([0, 4, 8, 10]);
    expect(rows.filter((x) => x.step === 0).map((x) => x.name)).toEqual([
      'probe/held_out',
      ...names,
      'probe/untrained_knn_top1',
      'probe/untrained_linear_top1',
    ]);
    for (const step of [4, 8, 10]) expect(rows.filter((x) => x.step === step).map((x) => x.name)).toEqual(names);
    // at the start of a run from random weights, teacher and online are the same network
    const at0 = (name: string) => rows.find((x) => x.step === 0 && x.name === name)!.value;
    expect(at0('probe/knn_top1')).toBe(at0('probe/online_knn_top1'));
    // accuracies are counts over the held-out faces: a multiple of 1/n, n from the log line and recorded
    const n = Number(/on (\d+) held-out/.exec(String(logs[0]!['message']))![1]);
    expect(at0('probe/held_out')).toBe(n);
    for (const x of rows.filter((x) => !['probe/seconds', 'probe/held_out'].includes(x.name)))
      expect(Math.abs(x.value * n - Math.round(x.value * n)), x.name).toBeLessThan(1e-9);
    // the last probe's teacher numbers are those the log line printed
    const last = rows.filter((x) => x.step === 10);
    expect(String(logs[3]!['message'])).toContain(
      `k-NN top1 ${last.find((x) => x.name === 'probe/knn_top1')!.value.toFixed(3)}`,
    );
    expect(
      r.events.some(
        (e) =>
          e.type === 'log' &&
          /^probe of an untrained network \(the reference\): k-NN top1 \d\.\d{3}, linear \d\.\d{3} on \d+ held-out/.test(
            String(e['message']),
          ),
      ),
    ).toBe(true);

    // camd probe: the run's encoder beside an untrained network and raw pixels; the expressions are
    // drawn into the faces, so raw pixels carry them (a sanity check of the probe, not of CAMD)
    const p = camd([
      'probe',
      '--json',
      '--checkpoint',
      join(out, 'encoder.safetensors'),
      '--random',
      '--pixels',
      '--data',
      probe,
      '--format',
      'folders',
      '--db',
      db,
    ]);
    expect(p.status, p.stderr).toBe(0);
    const res = p.events.at(-1)! as unknown as {
      type: string;
      task: string;
      classes: number;
      rows: { name: string; knn: number; linear: number; metric: string }[];
    };
    expect(res).toMatchObject({ type: 'probe', task: 'fer', classes: 3 });
    expect(res.rows.map((x) => x.name)).toEqual(['encoder.safetensors', 'untrained (random init)', 'pixels']);
    expect(res.rows.find((x) => x.name === 'pixels')!.linear).toBeGreaterThan(0.6);
    const human = camd([
      'probe',
      '--checkpoint',
      join(out, 'encoder.safetensors'),
      '--data',
      probe,
      '--format',
      'folders',
      '--db',
      db,
    ]);
    expect(human.stdout).toMatch(/^3 classes, top-1 accuracy; /);
    expect(human.stdout).toMatch(/encoder\.safetensors\s+\d\.\d{3}\s+\d\.\d{3}\s+\d+\.\d/);
    // cross-validated with the positive control (Human's face-description network), each with its fold-to-fold spread
    const cv = camd([
      'probe',
      '--json',
      '--pixels',
      '--control',
      '--folds',
      '3',
      '--data',
      probe,
      '--format',
      'folders',
      '--db',
      db,
    ]);
    expect(cv.status, cv.stderr).toBe(0);
    const cvr = cv.events.at(-1) as unknown as {
      split: string;
      rows: { name: string; test: number; knn: number; linear: number; spread: { knn: number; linear: number } }[];
    };
    expect(cvr).toMatchObject({
      split: '3-fold cross-validation over all 36 probe faces',
      rows: [
        { name: 'pixels', test: 36 },
        { name: 'face descriptor (control)', test: 36 },
      ],
    });
    for (const row of cvr.rows) {
      for (const v of [row.knn, row.linear]) expect(Math.abs(v * 36 - Math.round(v * 36)), row.name).toBeLessThan(1e-9);
      expect(row.spread.knn).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(row.spread.linear)).toBe(true);
    }
    // the expressions are drawn into these faces: a network trained on faces reads them far above chance (1/3)
    expect(cvr.rows[1]!.linear).toBeGreaterThan(0.6);
    const table = camd(['probe', '--control', '--folds', '3', '--data', probe, '--format', 'folders', '--db', db]);
    expect(table.stdout).toMatch(/face descriptor \(control\)\s+\d\.\d{3} ± \d\.\d{3}\s+\d\.\d{3} ± \d\.\d{3}/);
    expect(table.stdout).toContain("± the standard deviation of the folds' accuracies (fold-to-fold spread)");
    const none = camd(['probe', '--data', probe, '--format', 'folders', '--db', db]);
    expect(none.status).toBe(2);
    expect(none.stderr.trim()).toBe(
      'camd: nothing to probe: give --checkpoint FILE (any number), --random, --pixels or --control',
    );
    const half = camd([
      'pretrain',
      '--data',
      data,
      '--probe-data',
      probe,
      '--out',
      join(tempDir('run'), 'x'),
      '--db',
      db,
    ]);
    expect(half.status).toBe(2);
    expect(half.stderr).toMatch(/probeFormat|--probe-format/);
  }, 240_000);

  it('what the model sees: per-patch prediction quality and attention as the model computes them, PNGs of the grid, a 2-D map with labels', async () => {
    const data = faceFolder(8, 'see-faces');
    const db = join(tempDir('db'), 'camd.db');
    const out = join(tempDir('run'), 'pre');
    const r = camd([
      'pretrain',
      '--json',
      '--data',
      data,
      '--preset',
      'micro',
      '--img-size',
      '32',
      '--batch',
      '4',
      '--steps',
      '4',
      '--warmup-epochs',
      '0',
      '--blr',
      '0.05',
      '--out',
      out,
      '--db',
      db,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const ck = String(r.events.find((e) => e.type === 'done')!['checkpoint']);
    const face = join(CLM_DIR, 'audrey.jpg');
    await selectBackend('cpu');
    const v = await seeFace({ checkpoint: ck, image: face, maskRatio: 0.5, seed: 3 });
    expect([v.grid, v.cosine.length, v.attention.length, v.mask.length]).toEqual([4, 16, 16, 16]);
    expect(v.mask.filter((m) => m === 1)).toHaveLength(8); // round(0.5 · 16)
    expect(v.attention.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // the same numbers from the model's own student and teacher, with the same mask and identity geometry
    const file = readTensorFile(ck, CHECKPOINT_FORMAT);
    const st = file.state as { step: number; optimizer_step: number; settings: { preset: 'micro'; imgSize: number } };
    const cfg = presetConfig('micro', { imgSize: 32, maskRatio: 0.5 });
    const trainer = new CamdTrainer(cfg, 0, { epochs: 1, itersPerEpoch: 1, batchSize: 1 });
    trainer.importTensors(file.tensors, st.step, st.optimizer_step, ck);
    const x = tf.tidy(() =>
      tf
        .tensor(Array.from(v.face), [1, 32, 32, 3])
        .div(255)
        .sub(tf.tensor1d([...VGGFACE2_MEAN]))
        .div(tf.tensor1d([...VGGFACE2_STD])),
    ) as tf.Tensor4D;
    const t = trainer.model.teacher(x);
    const s = trainer.model.student(
      x,
      trainer.model.visibleIndices([Uint8Array.from(v.mask)]),
      trainer.model.relativeEmbedding([IDENTITY_GEOMETRY]),
    );
    const P = (await s.pred.array()) as number[][][];
    const T = (await layerNorm(t.target, 1e-5).array()) as number[][][];
    for (let n = 0; n < 16; n++) {
      const dot = P[0]![n]!.reduce((a, p, d) => a + p * T[0]![n]![d]!, 0);
      const cos = dot / (Math.hypot(...P[0]![n]!) * Math.hypot(...T[0]![n]!));
      expect(v.cosine[n]!).toBeCloseTo(cos, 4);
    }
    const masked = v.cosine.filter((_, n) => v.mask[n] === 1);
    expect(v.meanCosineMasked).toBeCloseTo(masked.reduce((a, b) => a + b, 0) / masked.length, 9);
    // the attention's encoder path is the teacher's: its tokens after every block equal the teacher's last distilled layer
    const tokens = teacherTokens(file.tensors, cfg.model, x, cfg.model.depth);
    const mine = (await tokens.slice([0, 1, 0], [-1, -1, -1]).array()) as number[][][];
    const theirs = (await t.globals.at(-1)!.array()) as number[][][];
    expect(cfg.model.distillLayers.at(-1)).toBe(cfg.model.depth - 1);
    for (let n = 0; n < 16; n++)
      for (let c = 0; c < cfg.model.embedDim; c += 7) expect(mine[0]![n]![c]!).toBeCloseTo(theirs[0]![n]![c]!, 4);
    tf.dispose([x, tokens, s.pred, ...s.locals, t.target, ...t.globals]);
    trainer.dispose();

    // the CLI writes the pictures: the grid scaled up (32 px × 8), the masked patches outlined in white
    const pics = tempDir('see');
    const c = camd([
      'see',
      '--json',
      '--checkpoint',
      ck,
      '--image',
      face,
      '--mask-ratio',
      '0.5',
      '--seed',
      '3',
      '--out',
      pics,
    ]);
    expect(c.status, c.stderr).toBe(0);
    expect((c.events.at(-1) as unknown as { face: { meanCosineMasked: number } }).face.meanCosineMasked).toBeCloseTo(
      v.meanCosineMasked,
      4,
    );
    const png = await sharp(join(pics, 'prediction.png')).raw().toBuffer({ resolveWithObject: true });
    expect([png.info.width, png.info.height]).toEqual([256, 256]);
    const white = (x: number, y: number) =>
      [0, 1, 2].every((k) => png.data[(y * 256 + x) * png.info.channels + k] === 255);
    for (let n = 0; n < 16; n++) {
      const [gy, gx] = [Math.floor(n / 4), n % 4];
      const centre = white(gx * 64 + 32, gy * 64 + 32);
      expect(centre).toBe(false); // the inside of a patch is its colour
    }
    // the top edge of a patch is white exactly when the patch is masked and the one above is not (or it is the top row)
    for (let n = 0; n < 16; n++) {
      const edge = v.mask[n] === 1 && (n < 4 || v.mask[n - 4] === 0);
      expect(white((n % 4) * 64 + 32, Math.floor(n / 4) * 64 + 1), `patch ${n}`).toBe(edge);
    }
    expect(v.mask.some((m, n) => m === 1 && (n < 4 || v.mask[n - 4] === 0))).toBe(true);
    const bad = camd(['see', '--checkpoint', join(out, 'encoder.safetensors'), '--image', face, '--out', pics]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/needs a pre-training checkpoint/);

    // a 2-D map of a labelled folder: one point per face, labels from the folder names
    const probe = await expressionFolders(4, 5);
    const m = camd([
      'see',
      '--json',
      '--checkpoint',
      ck,
      '--data',
      probe,
      '--format',
      'folders',
      '--out',
      pics,
      '--db',
      db,
    ]);
    expect(m.status, m.stderr).toBe(0);
    const map = JSON.parse(readFileSync(join(pics, 'projection.json'), 'utf8')) as {
      points: { label: string; x: number; y: number }[];
      explained: [number, number];
      labels: string[];
    };
    expect(map.points).toHaveLength(12);
    expect(map.labels).toEqual(['frown', 'smile', 'surprise']);
    expect(map.explained[0]).toBeGreaterThanOrEqual(map.explained[1]);
    expect((await sharp(join(pics, 'projection.png')).metadata()).width).toBe(900);
  }, 240_000);
});
