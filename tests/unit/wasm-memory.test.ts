// The wasm heap estimate that refuses a pre-training before it starts (train/memory.ts): against
// the measurements it was fitted to, against a real step here, and the one line it gives.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { presetConfig, type PresetName } from '../../trainer/src/model/config.js';
import { estimateWasmPretrain, wasmMemoryProblem, WASM_HEAP_MAX } from '../../trainer/src/train/memory.js';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { CamdTrainer } from '../../trainer/src/train/step.js';
import { disposeBatch, syntheticHostBatch, toDeviceBatch } from '../../trainer/src/train/synthetic.js';
import { Rng } from '../../trainer/src/util/rng.js';

const MiB = 1024 * 1024;
const est = (p: PresetName, img: number, b: number) => estimateWasmPretrain(presetConfig(p, { imgSize: img }), b).totalBytes / MiB;

describe('the wasm memory estimate', () => {
  it('is within −5 … +10 % of the heap high-water marks it was fitted to (README machine, tfjs-backend-wasm 4.22)', () => {
    // measured: HEAPU8.length after two steps, MiB
    const measured: [PresetName, number, number, number][] = [
      ['tiny', 112, 1, 298], ['tiny', 112, 4, 515], ['tiny', 112, 16, 1294],
      ['tiny', 224, 4, 1618],
      ['small', 112, 4, 1389], ['small', 112, 8, 1868], ['small', 112, 16, 2848], ['small', 224, 4, 3176],
    ];
    for (const [p, img, b, mib] of measured) {
      const r = est(p, img, b) / mib;
      expect(r, `${p}/${img} b${b}`).toBeGreaterThan(0.95);
      expect(r, `${p}/${img} b${b}`).toBeLessThan(1.1);
    }
  });

  it('a real step here stays under its estimate', async () => {
    await selectBackend('wasm');
    const cfg = presetConfig('tiny', { imgSize: 112 });
    const t = new CamdTrainer(cfg, 0, { epochs: 1, itersPerEpoch: 10, batchSize: 2 });
    const b = toDeviceBatch(syntheticHostBatch(cfg, 2, new Rng(0)));
    await t.trainStep(b);
    await t.trainStep(b);
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    disposeBatch(b);
    t.dispose();
    // this file's process starts with a fresh heap (vitest forks a process per file); measured here 298 MiB
    const e = estimateWasmPretrain(cfg, 2).totalBytes;
    expect(e).toBeGreaterThan(0.95 * heap);
    expect(e).toBeLessThan(1.35 * heap);
    expect(heap).toBeLessThanOrEqual(WASM_HEAP_MAX);
  }, 120_000);

  it('refuses ViT-B at any batch, names a batch that fits, and never suggests what would not fit', () => {
    expect(wasmMemoryProblem(presetConfig('tiny'), 16)).toBeNull();
    expect(wasmMemoryProblem(presetConfig('small', { imgSize: 224 }), 4)).toBeNull();
    expect(wasmMemoryProblem(presetConfig('base'), 4)).toBe(
      'base/224 at batch 4 needs about 8.1 GB of wasm memory (weights, gradients, AdamW state and momentum copy 3.9 GB, activations 4.2 GB); the wasm backend can use at most 4.1 GB: use --preset small, or a GPU backend (--backend tensorflow with CUDA, or webgpu)',
    );
    expect(wasmMemoryProblem(presetConfig('base', { imgSize: 112 }), 1)).toBe('base/112 at batch 1 needs about 4.10 GB of wasm memory (weights, gradients, AdamW state and momentum copy 3.86 GB, activations 0.24 GB); the wasm backend can use at most 4.08 GB: use --preset small, or a GPU backend (--backend tensorflow with CUDA, or webgpu)');
    const tinyBig = wasmMemoryProblem(presetConfig('tiny', { imgSize: 224 }), 16)!;
    expect(tinyBig).toMatch(/use --batch 11 or less, --img-size 112, or a GPU backend/);
    // the batch it names fits, one more does not
    const e = estimateWasmPretrain(presetConfig('tiny', { imgSize: 224 }), 11);
    expect(e.fits).toBe(true);
    expect(estimateWasmPretrain(presetConfig('tiny', { imgSize: 224 }), 12).fits).toBe(false);
  });
});
