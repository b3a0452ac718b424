/**
 * Will a pre-training step fit in the wasm backend's memory? tfjs-backend-wasm is a wasm32 module:
 * its heap grows up to 4 GiB − 64 KiB (emscripten's getHeapMax) and never shrinks; past that a
 * step does not fail cleanly (it aborts, traps with "memory access out of bounds", or spins). So a
 * run whose step would need more is refused before it starts, with the estimate, the ceiling and
 * what to change.
 *
 * The estimate is fitted to the heap high-water mark measured after two steps (HEAPU8.length;
 * `node` on the 2-core machine of the README, tfjs-backend-wasm 4.22, default mask ratio):
 *
 *   heap ≈ 30 MiB + 4.1 × 4 bytes × (online + momentum + frozen parameters)      (weights, gradients,
 *          + batch × 1.08 × (0.005527·N·D + 0.0025·N²) MiB × (depth + 6) / 18      AdamW moments, update
 *                                                                                  temporaries; activations)
 *
 * with N patches a view and D the width. Measured → estimated (MiB): tiny/112 b1 298 → 325,
 * b4 515 → 513, b16 1294 → 1265; tiny/224 b4 1618 → 1576; small/112 b4 1389 → 1423, b8 1868 →
 * 1899, b16 2848 → 2849; small/224 b4 3176 → 3160 (−3 … +9 %; the heap grows in steps, so its
 * high-water mark is itself rounded up). ViT-B at 112 px and batch 1 took the heap to its very
 * ceiling (4 095.9 MiB) for one step: refused, as every ViT-B step is.
 */
import { gridOf, parameterCounts, presetConfig, type CamdConfig, type ModelConfig, type PresetName } from '../model/config.js';

const MiB = 1024 * 1024;
/** emscripten's getHeapMax() of tfjs-backend-wasm's build: 4 GiB − 64 KiB. */
export const WASM_HEAP_MAX = 4294901760;
/** Refuse above this share of the ceiling (the estimate is within −3 … +9 % of the measurements). */
const USABLE = 0.95;

export interface MemoryEstimate {
  /** Weights, gradients, AdamW moments and the momentum copy. */
  fixedBytes: number;
  /** Activations and temporaries of one image of the batch. */
  perImageBytes: number;
  totalBytes: number;
  ceilingBytes: number;
  /** The largest batch that fits (0: not even one image). */
  maxBatch: number;
  fits: boolean;
}

function layersOf(m: ModelConfig): number {
  return m.depth + m.predictorDepth + m.projectorDepth;
}

/** The wasm heap a pre-training step of this configuration needs at this batch. */
export function estimateWasmPretrain(cfg: CamdConfig, batch: number): MemoryEstimate {
  const m = cfg.model;
  const p = parameterCounts(m);
  const fixedBytes = 30 * MiB + 4.1 * 4 * (p.online + p.momentum + p.frozen);
  const { tokens: N } = gridOf(m);
  const D = Math.max(m.embedDim, m.decoderDim);
  const perImageBytes = 1.08 * (0.005527 * N * D + 0.0025 * N * N) * MiB * (layersOf(m) / 18);
  const totalBytes = fixedBytes + batch * perImageBytes;
  const ceilingBytes = WASM_HEAP_MAX * USABLE;
  const maxBatch = Math.max(0, Math.floor((ceilingBytes - fixedBytes) / perImageBytes));
  return { fixedBytes, perImageBytes, totalBytes, ceilingBytes, maxBatch, fits: totalBytes <= ceilingBytes };
}


/**
 * One line saying why a pre-training cannot run on the wasm backend and what to change (a batch
 * that fits, a smaller image size, a smaller preset that fits at this batch, a GPU backend); null
 * when it fits.
 */
export function wasmMemoryProblem(cfg: CamdConfig, batch: number): string | null {
  const e = estimateWasmPretrain(cfg, batch);
  if (e.fits) return null;
  // one decimal, two where the need and the ceiling would read the same
  const close = (e.totalBytes / 1e9).toFixed(1) === (e.ceilingBytes / 1e9).toFixed(1);
  const gb = (b: number) => `${(b / 1e9).toFixed(close ? 2 : 1)} GB`;
  const m = cfg.model;
  const what = `${cfg.preset}/${m.imgSize} at batch ${batch}`;
  const need = `needs about ${gb(e.totalBytes)} of wasm memory (weights, gradients, AdamW state and momentum copy ${gb(e.fixedBytes)}, activations ${gb(e.totalBytes - e.fixedBytes)})`;
  const ceiling = `the wasm backend can use at most ${gb(e.ceilingBytes)}`;
  const gpu = 'or a GPU backend (--backend tensorflow with CUDA, or webgpu)';
  const fitsAs = (p: PresetName): boolean => {
    try {
      return estimateWasmPretrain(presetConfig(p, { imgSize: m.imgSize }), batch).fits;
    } catch {
      return false; // an image size that preset cannot use
    }
  };
  const others = (['small', 'tiny'] as const).filter((p) => p !== cfg.preset && fitsAs(p)).slice(0, 1).map((p) => `--preset ${p}`);
  const change: string[] = [];
  if (e.maxBatch >= 1) change.push(`--batch ${e.maxBatch} or less`);
  const at112 = (): boolean => {
    try {
      return m.imgSize > 112 && estimateWasmPretrain({ ...cfg, model: { ...m, imgSize: 112 } }, batch).fits;
    } catch {
      return false;
    }
  };
  if (at112()) change.push('--img-size 112');
  if (others.length) change.push(others.join(' or '));
  if (!change.length) change.push('--preset tiny');
  return `${what} ${need}; ${ceiling}: use ${change.join(', ')}, ${gpu}`;
}
