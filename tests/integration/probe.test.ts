// The probe monitor in a real pre-training run (metrics in the store at the configured epochs and
// at the end) and `camd probe` comparing checkpoints with an untrained network and raw pixels.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { faceFolder, tempDir } from '../support/folders.js';
import { expressionFolders } from '../support/rendered-faces.js';
import { camd, sql } from '../support/cli.js';

describe('probe', () => {
  it('camd pretrain --probe-data: k-NN and linear-probe metrics of both encoders at every 2nd epoch and at the end; camd probe compares', async () => {
    const data = faceFolder(16, 'probe-faces'); // 16 faces, batch 8: 2 steps an epoch
    const probe = await expressionFolders(12, 3); // 36 rendered faces, 3 expressions
    const db = join(tempDir('db'), 'camd.db');
    const out = join(tempDir('run'), 'pre');
    const r = camd(['pretrain', '--json', '--data', data, '--preset', 'micro', '--img-size', '32', '--batch', '8', '--steps', '10', '--warmup-epochs', '0', '--blr', '0.05', '--out', out, '--db', db, '--probe-data', probe, '--probe-format', 'folders', '--probe-every', '2']);
    expect(r.status, r.stderr).toBe(0);
    const logs = r.events.filter((e) => e.type === 'log' && /^probe at epoch/.test(String(e['message'])));
    // epochs 2 and 4 (steps 4 and 8), and the end (step 10, epoch 5)
    expect(logs.map((e) => /^probe at epoch (\d+) \(step (\d+)\)/.exec(String(e['message']))!.slice(1, 3).join('@'))).toEqual(['2@4', '4@8', '5@10']);
    const rows = sql<{ name: string; step: number; value: number }>(db, "SELECT m.name, m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.out_dir = ? AND m.name LIKE 'probe/%' ORDER BY m.step, m.name", out);
    const names = ['probe/knn_top1', 'probe/linear_top1', 'probe/online_knn_top1', 'probe/online_linear_top1', 'probe/seconds'];
    expect([...new Set(rows.map((x) => x.step))]).toEqual([4, 8, 10]);
    for (const step of [4, 8, 10]) expect(rows.filter((x) => x.step === step).map((x) => x.name)).toEqual(names);
    // accuracies are counts over the held-out faces: a multiple of 1/n, n from the log line
    const n = Number(/on (\d+) held-out/.exec(String(logs[0]!['message']))![1]);
    for (const x of rows.filter((x) => x.name !== 'probe/seconds')) expect(Math.abs(x.value * n - Math.round(x.value * n)), x.name).toBeLessThan(1e-9);
    // the last probe's teacher numbers are those the log line printed
    const last = rows.filter((x) => x.step === 10);
    expect(String(logs[2]!['message'])).toContain(`k-NN top1 ${last.find((x) => x.name === 'probe/knn_top1')!.value.toFixed(3)}`);

    // camd probe: the run's encoder beside an untrained network and raw pixels; the expressions are
    // drawn into the faces, so raw pixels carry them (a sanity check of the probe, not of CAMD)
    const p = camd(['probe', '--json', '--checkpoint', join(out, 'encoder.safetensors'), '--random', '--pixels', '--data', probe, '--format', 'folders', '--db', db]);
    expect(p.status, p.stderr).toBe(0);
    const res = p.events.at(-1)! as unknown as { type: string; task: string; classes: number; rows: { name: string; knn: number; linear: number; metric: string }[] };
    expect(res).toMatchObject({ type: 'probe', task: 'fer', classes: 3 });
    expect(res.rows.map((x) => x.name)).toEqual(['encoder.safetensors', 'untrained (random init)', 'pixels']);
    expect(res.rows.find((x) => x.name === 'pixels')!.linear).toBeGreaterThan(0.6);
    const human = camd(['probe', '--checkpoint', join(out, 'encoder.safetensors'), '--data', probe, '--format', 'folders', '--db', db]);
    expect(human.stdout).toMatch(/^3 classes, top-1 accuracy; /);
    expect(human.stdout).toMatch(/encoder\.safetensors\s+\d\.\d{3}\s+\d\.\d{3}\s+\d+\.\d/);
    const none = camd(['probe', '--data', probe, '--format', 'folders', '--db', db]);
    expect(none.status).toBe(2);
    expect(none.stderr.trim()).toBe('camd: nothing to probe: give --checkpoint FILE (any number), --random or --pixels');
    const half = camd(['pretrain', '--data', data, '--probe-data', probe, '--out', join(tempDir('run'), 'x'), '--db', db]);
    expect(half.status).toBe(2);
    expect(half.stderr).toMatch(/probeFormat|--probe-format/);
  }, 240_000);
});
