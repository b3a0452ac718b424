// camd export --format camd-pth: our pre-training checkpoint in the released models_CAMD.py layout;
// and --format onnx of the same run's encoder, run in ONNX Runtime on real faces.
// The reference is the released ViT-B's own state_dict() (tests/support/released-camd-base-keys.txt);
// a ViT-Tiny run has the same depths, so the same keys, with its widths in the shapes. (Checked once
// beyond this: the released CAMDViT at ViT-Tiny's sizes loads such a file with strict=True.)
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { faceFolder, tempDir } from '../support/folders.js';
import { camd } from '../support/cli.js';
import { flattenTensors, readTorchFile } from '../../trainer/src/interop/torch-file.js';
import { CHECKPOINT_FORMAT, readTensorFile } from '../../trainer/src/store/checkpoint.js';
import { sincosTable2d } from '../../trainer/src/model/posembed.js';
import { Classifier, readEncoder } from '../../trainer/src/finetune/classifier.js';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { maxRelErr } from '../support/compare.js';
import { onnxCheck, onnxMissing, realFaces, runOnnx } from '../support/onnx.js';

const REFERENCE = fileURLToPath(new URL('../support/released-camd-base-keys.txt', import.meta.url));

let run: string;
let ck: string;
beforeAll(() => {
  run = join(tempDir('run'), 'tiny');
  const r = camd([
    'pretrain',
    '--json',
    '--data',
    faceFolder(8, 'camd-pth'),
    '--preset',
    'tiny',
    '--img-size',
    '112',
    '--batch',
    '4',
    '--steps',
    '2',
    '--warmup-epochs',
    '0',
    '--out',
    run,
    '--db',
    join(tempDir('db'), 'camd.db'),
  ]);
  expect(r.status, r.stderr).toBe(0);
  ck = String(r.events.find((e) => e.type === 'done')!['checkpoint']);
}, 120_000);

describe('camd export --format camd-pth', () => {
  it('has exactly the released keys, shapes in the released layouts, our values where they belong', async () => {
    const out = join(tempDir('export'), 'camd.pth');
    const x = camd(['export', '--checkpoint', ck, '--format', 'camd-pth', '--out', out]);
    expect(x.status, x.stderr).toBe(0);
    const f = await readTorchFile(out);
    const root = f.root as Map<string, unknown>;
    expect(root.get('epoch')).toBe(0);
    expect([...root.keys()]).toEqual(['model', 'optimizer', 'epoch', 'args']);
    const sd = flattenTensors(root.get('model'));
    // ViT-B (C = D = 768, 197 tokens) → ViT-Tiny/112 (C = D = 192, 50 tokens)
    const scale: Record<number, number> = { 768: 192, 2304: 576, 3072: 768, 1536: 384, 197: 50 };
    const ref = readFileSync(REFERENCE, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => {
        const [name, shape] = [l.slice(0, l.indexOf(' ')), JSON.parse(l.slice(l.indexOf(' ') + 1)) as number[]];
        return { name, shape: shape.map((d) => scale[d] ?? d) };
      });
    expect(ref).toHaveLength(458);
    expect([...sd.keys()]).toEqual(ref.map((x) => x.name)); // in state_dict() order too: AdamW numbers the parameters in it
    for (const { name, shape } of ref) expect(sd.get(name)!.shape, name).toEqual(shape);
    // values: a Linear weight transposed, an AGMD projection under its released name, a BN affine under .bn., buffers, the fixed tables
    const ours = readTensorFile(ck, CHECKPOINT_FORMAT).tensors;
    const w = ours.get('blocks.3.mlp.fc1.weight')!; // (192, 768) in, out
    const rel = sd.get('blocks.3.mlp.fc1.weight')!.values(); // (768, 192)
    for (const [i, j] of [
      [0, 0],
      [5, 700],
      [191, 767],
    ] as const)
      expect(rel[j * 192 + i]).toBe(w.data[i * 768 + j]);
    const q = ours.get('multihead_attention_topk.q_proj.weight')!;
    expect(sd.get('multihead_attention_topk.query.weight')!.values()[3 * 192 + 7]).toBe(q.data[7 * 192 + 3]);
    expect(Array.from(sd.get('mm_projector_decoder_blocks.1.norm2.bn.weight')!.values())).toEqual(
      Array.from(ours.get('mm_projector_decoder_blocks.1.norm2.weight')!.data),
    );
    expect(new Set(sd.get('predictor_decoder_blocks.0.norm1.bn.running_var')!.values())).toEqual(new Set([1]));
    expect(sd.get('predictor_decoder_blocks.0.norm1.bn.num_batches_tracked')).toMatchObject({
      dtype: 'int64',
      shape: [],
    });
    expect(Array.from(sd.get('pos_embed')!.values())).toEqual(Array.from(sincosTable2d(192, 7)));
    expect(Array.from(sd.get('mm_cls_token')!.values())).toEqual(Array.from(ours.get('mm_cls_token')!.data));
    // a file that is not a pre-training checkpoint is refused
    const bad = camd([
      'export',
      '--checkpoint',
      join(run, 'encoder.safetensors'),
      '--format',
      'camd-pth',
      '--out',
      out,
    ]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--format camd-pth takes a camd pretrain checkpoint/);
  });
});

describe('camd export --format onnx (an encoder)', () => {
  it("the pre-training run's encoder (ViT-Tiny/112) in ONNX Runtime gives our embedding and patch features on real faces", async () => {
    await selectBackend('wasm');
    const file = join(tempDir('export'), 'encoder.onnx');
    const x = camd([
      'export',
      '--checkpoint',
      join(run, 'encoder.safetensors'),
      '--format',
      'onnx',
      '--out',
      file,
      '--json',
    ]);
    expect(x.status, x.stderr).toBe(0);
    const info = JSON.parse(x.stdout.trim().split('\n').pop()!);
    expect(info).toMatchObject({
      exported: 'encoder',
      preprocessing: { size: 112, normalisation: 'vggface2' },
      names: null,
    });
    expect(info.outputs.map((o: { name: string; dims: unknown[] }) => [o.name, o.dims])).toEqual([
      ['embedding', ['batch', 192]],
      ['patch_features', ['batch', 49, 192]],
    ]);
    // ours: the encoder's patch tokens after the last block, and their mean
    const enc = readEncoder(join(run, 'encoder.safetensors'));
    const clf = new Classifier({ model: enc.model, outputs: 1, dropPath: 0 }, 0);
    clf.loadEncoder(enc.tensors, 'encoder.safetensors');
    const n = 8;
    const { nhwc, nchw } = await realFaces(n, 112, info.preprocessing.mean, info.preprocessing.std);
    const got = await runOnnx(file, nchw, n, 112);
    const [patches] = clf.blockOutputs(tf.tensor4d(nhwc, [n, 112, 112, 3]), [enc.model.depth - 1]);
    expect(got.values['patch_features']!.dims).toEqual([n, 49, 192]);
    expect(maxRelErr(got.values['patch_features']!.data, patches!.dataSync())).toBeLessThanOrEqual(1e-4);
    expect(maxRelErr(got.values['embedding']!.data, patches!.mean(1).dataSync())).toBeLessThanOrEqual(1e-4);
    clf.dispose();
    // the pre-training checkpoint itself exports the same encoder
    const fromCk = join(tempDir('export'), 'ck.onnx');
    expect(camd(['export', '--checkpoint', ck, '--format', 'onnx', '--out', fromCk]).status).toBe(0);
    const again = await runOnnx(fromCk, nchw.subarray(0, 3 * 112 * 112), 1, 112);
    expect(
      maxRelErr(again.values['embedding']!.data, got.values['embedding']!.data.subarray(0, 192)),
    ).toBeLessThanOrEqual(1e-5);
    if (!onnxMissing) expect(onnxCheck(file)).toBe('');
  }, 120_000);
});
