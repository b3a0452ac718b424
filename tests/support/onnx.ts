// What the ONNX tests need from the real runtime and the real checker: real faces as the exported
// model's pixel_values (and as our NHWC input), ONNX Runtime for Node (onnxruntime-node, its
// binaries inside the npm package) running a file, and Debian's python3-onnx running
// onnx.checker on it. With CI=true a missing python3-onnx fails the file (.ci/run installs it);
// elsewhere the checker test is skipped, saying why.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { lfwFaces, tempDir } from './folders.js';
import { camd } from './cli.js';
import { maxRelErr } from './compare.js';

export const onnxPython: string | null =
  ['/usr/bin/python3', 'python3'].find(
    (p) => spawnSync(p, ['-c', 'import onnx, onnx.checker'], { encoding: 'utf8' }).status === 0,
  ) ?? null;
export const onnxMissing: string | null = onnxPython
  ? null
  : 'no Python with the onnx package (install python3-onnx; .ci/run does)';
if (onnxMissing && process.env['CI']) throw new Error(`the ONNX checker test needs ${onnxMissing}`);

/** onnx.checker.check_model(file, full_check=True) (shape inference included): '' when it passes, else its message. */
export function onnxCheck(file: string): string {
  const script =
    'import sys, onnx\nm = onnx.load(sys.argv[1])\nonnx.checker.check_model(m, full_check=True)\nprint(m.ir_version, m.opset_import[0].version)';
  const r = spawnSync(onnxPython!, ['-c', script, file], { encoding: 'utf8' });
  return r.status === 0 ? '' : r.stderr || `exit ${r.status}`;
}

/** The first n real faces (LFW photos) resized to S×S and normalised with mean/std: NHWC (ours) and NCHW (the file's). */
export async function realFaces(n: number, S: number, mean: number[], std: number[]) {
  const files = lfwFaces().slice(0, n);
  if (files.length < n) throw new Error(`only ${files.length} LFW faces`);
  const nhwc = new Float32Array(n * S * S * 3);
  const nchw = new Float32Array(n * 3 * S * S);
  for (let i = 0; i < n; i++) {
    const px = await sharp(files[i]!).resize(S, S).removeAlpha().raw().toBuffer();
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++)
        for (let c = 0; c < 3; c++) {
          const v = (px[(y * S + x) * 3 + c]! / 255 - mean[c]!) / std[c]!;
          nhwc[((i * S + y) * S + x) * 3 + c] = v;
          nchw[((i * 3 + c) * S + y) * S + x] = v;
        }
  }
  return { nhwc, nchw };
}

/** Runs the file in ONNX Runtime on pixel_values (n, 3, S, S): every output by name. */
export async function runOnnx(file: string, nchw: Float32Array, n: number, S: number) {
  const session = await ort.InferenceSession.create(file);
  try {
    const out = await session.run({ pixel_values: new ort.Tensor('float32', nchw, [n, 3, S, S]) });
    return {
      inputs: session.inputNames,
      outputs: session.outputNames,
      values: Object.fromEntries(
        Object.entries(out).map(([k, t]) => [k, { dims: [...t.dims], data: t.data as Float32Array }]),
      ),
    };
  } finally {
    await session.release();
  }
}

/**
 * Exports `checkpoint` to ONNX with `camd export --format onnx --json` and checks, on real faces at
 * batch 1 and 8, that ONNX Runtime's outputs equal `ours` (≤ 1e-4 relative) and that onnx.checker
 * passes the file. Returns what the export printed.
 */
export async function expectOnnxEqualsOurs(
  checkpoint: string,
  ours: (x: tf.Tensor4D) => Record<string, tf.Tensor>,
  tol = 1e-4,
): Promise<Record<string, unknown> & { file: string; preprocessing: { size: number; mean: number[]; std: number[] } }> {
  const file = join(tempDir('onnx'), 'model.onnx');
  const r = camd(['export', '--checkpoint', checkpoint, '--format', 'onnx', '--out', file, '--json']);
  expect(r.status, r.stderr).toBe(0);
  const info = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const { size: S, mean, std } = info.preprocessing;
  for (const n of [1, 8]) {
    const { nhwc, nchw } = await realFaces(n, S, mean, std);
    const got = await runOnnx(file, nchw, n, S);
    const want = tf.tidy(() => {
      const o = ours(tf.tensor4d(nhwc, [n, S, S, 3]));
      return Object.fromEntries(
        Object.entries(o).map(([k, t]) => [k, { dims: t.shape, data: t.dataSync() as Float32Array }]),
      );
    });
    expect([...got.outputs].sort()).toEqual(Object.keys(want).sort());
    for (const [k, w] of Object.entries(want)) {
      expect(got.values[k]!.dims, k).toEqual(w.dims);
      expect(maxRelErr(got.values[k]!.data, w.data), k).toBeLessThanOrEqual(tol);
    }
  }
  if (!onnxMissing) expect(onnxCheck(file)).toBe('');
  return { ...info, file };
}

/**
 * `camd predict --json` on the faces of `data` with the checkpoint and with its ONNX file: the same
 * faces, and each face's numbers (`pick`) within `tol` of each other. Returns the faces compared.
 */
export function expectSamePredictions(
  checkpoint: string,
  onnxFile: string,
  data: string,
  pick: (face: Record<string, unknown>) => number[],
  tol: number,
): number {
  const run = (flag: string, file: string) => {
    const r = camd(['predict', '--json', flag, file, '--data', data]);
    expect(r.status, r.stderr).toBe(0);
    return r.events.filter((e) => e.type === 'prediction') as unknown as {
      image: string;
      faces: Record<string, unknown>[];
    }[];
  };
  const ours = run('--checkpoint', checkpoint);
  const theirs = run('--onnx', onnxFile);
  expect(theirs.map((p) => [p.image, p.faces.length])).toEqual(ours.map((p) => [p.image, p.faces.length]));
  let faces = 0;
  ours.forEach((p, i) =>
    p.faces.forEach((f, j) => {
      const a = pick(f);
      const b = pick(theirs[i]!.faces[j]!);
      expect(b.length).toBe(a.length);
      a.forEach((v, k) => expect(Math.abs(v - b[k]!)).toBeLessThanOrEqual(tol));
      faces++;
    }),
  );
  return faces;
}
