// The wasm heap estimate and plan that refuse a pre-training before it starts, or recompute its
// activations so that it fits (model/memory.ts): against the measurements it was fitted to, against
// real steps here, and the one line it gives.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { presetConfig, type PresetName } from '../../trainer/src/model/config.js';
import {
  estimateWasmPretrain,
  planWasmPretrain,
  wasmMemoryProblem,
  WASM_HEAP_MAX,
} from '../../trainer/src/model/memory.js';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { hostStateKernels } from '../../trainer/src/ops/host-state.js';
import { CamdTrainer } from '../../trainer/src/train/step.js';
import { disposeBatch, syntheticHostBatch, toDeviceBatch } from '../../trainer/src/train/synthetic.js';
import { Rng } from '../../trainer/src/util/rng.js';

const MiB = 1024 * 1024;
const est = (p: PresetName, img: number, b: number, recompute: boolean) =>
  estimateWasmPretrain(presetConfig(p, { imgSize: img }), b, { recompute }).totalBytes / MiB;

describe('the wasm memory estimate', () => {
  it('is within −8 … +16 % of the heap high-water marks it was fitted to (README machine, tfjs-backend-wasm 4.22, host state)', () => {
    // measured: HEAPU8.length after three steps, MiB (README "Memory on the wasm backend")
    const kept: [PresetName, number, number, number][] = [
      ['tiny', 112, 1, 144],
      ['tiny', 112, 4, 248],
      ['tiny', 112, 16, 708],
      ['tiny', 224, 4, 1005],
      ['small', 112, 4, 612],
      ['small', 112, 8, 902],
      ['small', 112, 16, 1488],
      ['small', 224, 4, 1790],
      ['base', 112, 4, 1936],
      ['base', 224, 1, 1944],
      ['base', 224, 2, 2634],
      ['base', 224, 4, 3864],
    ];
    const recomputed: [PresetName, number, number, number][] = [
      ['tiny', 112, 4, 100],
      ['tiny', 112, 16, 248],
      ['tiny', 224, 16, 1202],
      ['small', 112, 8, 429],
      ['small', 112, 16, 515],
      ['small', 224, 4, 618],
      ['small', 224, 16, 1969],
      ['base', 112, 16, 1546],
      ['base', 224, 1, 1261],
      ['base', 224, 4, 1674],
      ['base', 224, 8, 2278],
      ['base', 224, 16, 3750],
    ];
    for (const [list, recompute] of [
      [kept, false],
      [recomputed, true],
    ] as const) {
      for (const [p, img, b, mib] of list) {
        const r = est(p, img, b, recompute) / mib;
        expect(r, `${p}/${img} b${b}${recompute ? ' recomputed' : ''}`).toBeGreaterThan(0.92);
        expect(r, `${p}/${img} b${b}${recompute ? ' recomputed' : ''}`).toBeLessThan(1.16);
      }
    }
  });

  it('real steps here stay under their estimates, kept and recomputed', async () => {
    await selectBackend('wasm');
    const hostState = hostStateKernels() !== null;
    const cfg = presetConfig('tiny', { imgSize: 112 });
    const heapAfter = async (recompute: boolean, batch: number) => {
      const t = new CamdTrainer(cfg, 0, { epochs: 1, itersPerEpoch: 10, batchSize: batch }, { recompute });
      const b = toDeviceBatch(syntheticHostBatch(cfg, batch, new Rng(0)));
      for (let i = 0; i < 3; i++) await t.trainStep(b);
      disposeBatch(b);
      t.dispose();
      return (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    };
    // the heap never shrinks: the smaller need first (this file's process starts with a fresh heap)
    const re = await heapAfter(true, 4);
    const e1 = estimateWasmPretrain(cfg, 4, { recompute: true, hostState }).totalBytes;
    expect(e1).toBeGreaterThan(0.9 * re);
    expect(e1).toBeLessThan(1.4 * re);
    const kept = await heapAfter(false, 4);
    const e2 = estimateWasmPretrain(cfg, 4, { recompute: false, hostState }).totalBytes;
    expect(kept).toBeGreaterThan(re); // recomputation saves heap
    expect(e2).toBeGreaterThan(0.9 * kept);
    expect(e2).toBeLessThan(1.4 * kept);
    expect(kept).toBeLessThanOrEqual(WASM_HEAP_MAX);
  }, 120_000);

  it('keeps activations when that fits, recomputes them when only that fits, and refuses what fits neither way', () => {
    expect(planWasmPretrain(presetConfig('tiny'), 16).recompute).toBe(false);
    expect(planWasmPretrain(presetConfig('base'), 4).recompute).toBe(false);
    const b16 = planWasmPretrain(presetConfig('base'), 16);
    expect(b16.recompute).toBe(true);
    expect(b16.fits).toBe(true);
    expect(planWasmPretrain(presetConfig('base'), 16, 'off').fits).toBe(false);
    expect(planWasmPretrain(presetConfig('tiny'), 16, 'on').recompute).toBe(true);
    expect(wasmMemoryProblem(presetConfig('tiny'), 16)).toBeNull();
    expect(wasmMemoryProblem(presetConfig('base'), 16)).toBeNull();
    expect(wasmMemoryProblem(presetConfig('base'), 17)).toBe(
      'base/224 at batch 17 needs about 4.3 GB of wasm memory even with activations recomputed (weights, gradients 1.1 GB, activations 3.2 GB); the wasm backend can use at most 4.2 GB: use --batch 16 or less, --img-size 112, --preset small, or a GPU backend (--backend tensorflow with CUDA, or webgpu)',
    );
    // turned off where only recomputation fits: says so first
    expect(wasmMemoryProblem(presetConfig('base'), 16, 'off')).toMatch(
      /^base\/224 at batch 16 needs about [\d.]+ GB of wasm memory \(.*\); the wasm backend can use at most [\d.]+ GB: use --recompute auto, --batch 4 or less, /,
    );
    // without the native addon the optimiser state is in the heap too
    expect(wasmMemoryProblem(presetConfig('base'), 16, 'auto', false)).toMatch(
      /weights, gradients, AdamW state and momentum copy [\d.]+ GB/,
    );
    // the batch it names fits, one more does not
    const big = wasmMemoryProblem(presetConfig('small', { imgSize: 224 }), 64)!;
    const n = Number(/--batch (\d+) or less/.exec(big)![1]);
    expect(planWasmPretrain(presetConfig('small', { imgSize: 224 }), n).fits).toBe(true);
    expect(planWasmPretrain(presetConfig('small', { imgSize: 224 }), n + 1).fits).toBe(false);
  });
});
