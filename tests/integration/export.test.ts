// `camd export`: the ONNX file gives in ONNX Runtime what the classifier gives on real faces, the
// TensorFlow.js LayersModel computes what the classifier computes, and the safetensors file carries
// the timm / PyTorch names and layouts.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { loadClassifier } from '../../trainer/src/finetune/classifier-file.js';
import { decodeTensorFile } from '../../trainer/src/store/checkpoint.js';
import { linear, patchify } from '../../trainer/src/model/vit.js';
import { expressionFolders } from '../support/rendered-faces.js';
import { tempDir } from '../support/folders.js';
import { maxRelErr } from '../support/compare.js';
import { onnxCheck, onnxMissing, realFaces, runOnnx } from '../support/onnx.js';

const CAMD = fileURLToPath(new URL('../../trainer/bin/camd.js', import.meta.url));
const camd = (args: string[]) => spawnSync(process.execPath, [CAMD, ...args], { encoding: 'utf8', timeout: 300_000 });

let best: string;
beforeAll(async () => {
  await selectBackend('wasm');
  const data = await expressionFolders(10, 5);
  const out = join(tempDir('run'), 'ft');
  const r = camd([
    'finetune',
    '--json',
    '--task',
    'fer',
    '--format',
    'folders',
    '--data',
    data,
    '--init',
    'none',
    '--preset',
    'micro',
    '--epochs',
    '1',
    '--batch',
    '8',
    '--blr',
    '0.05',
    '--warmup-epochs',
    '0',
    '--out',
    out,
    '--db',
    join(tempDir('db'), 'camd.db'),
  ]);
  expect(r.status, r.stderr).toBe(0);
  best = join(out, 'best.safetensors');
});

describe('camd export', () => {
  it('onnx: ONNX Runtime gives the classifier’s logits and features on real faces, at batch 1 and 8; the checker passes it', async () => {
    const file = join(tempDir('export'), 'model.onnx');
    const r = camd(['export', '--checkpoint', best, '--format', 'onnx', '--out', file, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(info).toMatchObject({ type: 'done', format: 'onnx', exported: 'classifier', opset: 17 });
    expect(info.bytes).toBe(readFileSync(file).length);
    expect(info.preprocessing).toMatchObject({ input: 'pixel_values', layout: 'NCHW', channel_order: 'RGB', size: 32 });
    expect(info.outputs.map((o: { name: string }) => o.name)).toEqual(['logits', 'embedding']);
    const { clf, names } = loadClassifier(best);
    expect(info.names).toEqual(names);
    const { mean, std } = info.preprocessing;
    for (const n of [1, 8]) {
      const { nhwc, nchw } = await realFaces(n, 32, mean, std);
      const got = await runOnnx(file, nchw, n, 32);
      expect(got.inputs).toEqual(['pixel_values']);
      expect(got.outputs).toEqual(['logits', 'embedding']);
      const x = tf.tensor4d(nhwc, [n, 32, 32, 3]);
      const logits = clf.logits(x);
      const features = clf.features(x);
      expect(got.values['logits']!.dims).toEqual([n, names.length]);
      expect(got.values['embedding']!.dims).toEqual([n, 32]);
      expect(maxRelErr(got.values['logits']!.data, logits.dataSync())).toBeLessThanOrEqual(1e-4);
      expect(maxRelErr(got.values['embedding']!.data, features.dataSync())).toBeLessThanOrEqual(1e-4);
      tf.dispose([x, logits, features]);
    }
    clf.dispose();
    // the words a person reads
    const words = camd(['export', '--checkpoint', best, '--format', 'onnx', '--out', file]);
    expect(words.status, words.stderr).toBe(0);
    expect(words.stdout).toMatch(
      /^classifier \(\d+ outputs\) 32×2 at 32 px → .*model\.onnx \([\d.]+ MiB, ONNX opset 17\)/,
    );
    expect(words.stdout).toMatch(
      /input {2}pixel_values \(batch, 3, 32, 32\) float32, RGB, \(pixel\/255 − mean\)\/std with mean \[0\.485,0\.456,0\.406\]/,
    );
    if (!onnxMissing) expect(onnxCheck(file)).toBe('');
  });

  it('tfjs: a LayersModel of standard layers whose outputs equal the classifier’s', async () => {
    const dir = join(tempDir('export'), 'tfjs');
    const r = camd(['export', '--checkpoint', best, '--format', 'tfjs', '--out', dir]);
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const weights = readFileSync(join(dir, 'weights.bin'));
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length),
      }),
    );
    const { clf } = loadClassifier(best);
    const x = tf.randomNormal([3, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = clf.logits(x).dataSync();
    expect(a.length).toBe(9);
    expect(maxRelErr(a, b)).toBeLessThan(1e-4);
    const classes = new Set((json.modelTopology.config.layers as { class_name: string }[]).map((l) => l.class_name));
    for (const c of classes)
      expect([
        'InputLayer',
        'Conv2D',
        'Reshape',
        'GlobalAveragePooling2D',
        'Dense',
        'Add',
        'Concatenate',
        'LayerNormalization',
        'Dot',
        'Activation',
        'Cropping2D',
        'GlobalAveragePooling1D',
      ]).toContain(c);
  });

  it('safetensors: timm names, (out, in) Linear weights and a (C, 3, p, p) patch embedding that compute the same', () => {
    const file = join(tempDir('export'), 'model.safetensors');
    const r = camd(['export', '--checkpoint', best, '--format', 'safetensors', '--out', file]);
    expect(r.status, r.stderr).toBe(0);
    const pt = decodeTensorFile(readFileSync(file), file, 'pt').tensors;
    const names = [...pt.keys()].sort();
    expect(names).toContain('patch_embed.proj.weight');
    expect(names).toContain('blocks.1.attn.qkv.weight');
    expect(names).toContain('fc_norm.weight');
    expect(pt.get('patch_embed.proj.weight')!.shape).toEqual([32, 3, 8, 8]);
    expect(pt.get('blocks.0.attn.qkv.weight')!.shape).toEqual([96, 32]); // (3C, C) as nn.Linear
    expect(pt.get('blocks.0.mlp.fc1.weight')!.shape).toEqual([128, 32]);
    expect(pt.get('head.weight')!.shape).toEqual([3, 32]);
    expect(pt.get('pos_embed')!.shape).toEqual([1, 17, 32]);
    const { clf } = loadClassifier(best);
    // a PyTorch conv (OIHW) applied by tfjs (HWIO) equals our patch embedding
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const w = pt.get('patch_embed.proj.weight')!;
    const conv = tf
      .conv2d(x, tf.tensor4d(w.data, [32, 3, 8, 8]).transpose([2, 3, 1, 0]) as tf.Tensor4D, 8, 'valid')
      .add(tf.tensor1d(pt.get('patch_embed.proj.bias')!.data));
    const ours = linear(
      patchify(x, 8),
      clf.params.get('patch_embed.proj.weight'),
      clf.params.get('patch_embed.proj.bias'),
    );
    expect(maxRelErr(conv.reshape([-1]).dataSync(), ours.reshape([-1]).dataSync())).toBeLessThan(1e-5);
    // y = x Wᵀ + b with the exported (out, in) head
    const f = tf.randomNormal([4, 32], 0, 1, 'float32', 4) as tf.Tensor2D;
    const h = pt.get('head.weight')!;
    const viaPt = tf.matMul(f, tf.tensor2d(h.data, [3, 32]), false, true).add(tf.tensor1d(pt.get('head.bias')!.data));
    expect(maxRelErr(viaPt.dataSync(), clf.head(f).dataSync())).toBeLessThan(1e-5);
    // a non-square layer by value, not only by shape: PyTorch's fc1 (out 128, in 32) is ours (in 32, out 128) transposed
    const fc1 = pt.get('blocks.0.mlp.fc1.weight')!.data;
    const ourFc1 = clf.params.get('blocks.0.mlp.fc1.weight').dataSync();
    for (let o = 0; o < 128; o++) for (let i = 0; i < 32; i++) expect(fc1[o * 32 + i]).toBe(ourFc1[i * 128 + o]);
    expect(Array.from(pt.get('blocks.0.mlp.fc1.bias')!.data)).toEqual(
      Array.from(clf.params.get('blocks.0.mlp.fc1.bias').dataSync()),
    );
  });

  it('refuses a file that is not ours and a bad format', () => {
    const bad = camd(['export', '--checkpoint', '/etc/hostname', '--format', 'tfjs', '--out', tempDir('x')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/is not a usable CAMD checkpoint/);
    const fmt = camd(['export', '--checkpoint', best, '--format', 'onnnx', '--out', tempDir('x')]);
    expect(fmt.status).toBe(2);
    expect(fmt.stderr.trim()).toBe("camd: --format must be onnx, tfjs, safetensors, pytorch or camd-pth, got 'onnnx'");
  });
});
