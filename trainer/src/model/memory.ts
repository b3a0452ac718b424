/**
 * Will a pre-training step fit in the wasm backend's memory, and does it need its activations
 * recomputed to fit? tfjs-backend-wasm is a wasm32 module: its heap grows up to 4 GiB − 64 KiB
 * (emscripten's getHeapMax) and never shrinks; past that a step does not fail cleanly (it aborts,
 * traps with "memory access out of bounds", or spins). So a run whose step would need more is
 * refused before it starts, with the estimate, the ceiling and what to change.
 *
 * What lives in the heap (with the native camd_ops addon, ops/host-state.ts): the online and
 * frozen weights, their gradients and the update's temporaries, one teacher block's momentum
 * weights at a time, and the activations. AdamW's moments and the momentum copy are host arrays
 * outside it. Without the addon they are tensors too (4 bytes × (2 × online + momentum) more).
 *
 * The estimate is fitted to the heap's high-water mark after three steps (HEAPU8.length; node,
 * tfjs-backend-wasm 4.22, default mask ratio; the measurements and the fit are in docs/backends.md),
 * P parameters (online + frozen), per image of the batch, with V visible patches and N positions:
 *   rows  = D · ((depth + projector depth)·(V + 1) + predictor depth·(1 + V + N))   (block activations)
 *   att   = heads·(depth)·(V + 1)² + 16·(projector depth·(V + 1)² + predictor depth·(1 + V + N)²)
 *   one   = D·(1 + V + N)·16 + 16·(1 + V + N)²                                    (one predictor block)
 *   kept activations:        heap ≈ 8 MiB + 2.7 × 4P + batch × 4 bytes × (82·rows + 5·att)
 *   recomputed activations:  heap ≈        2.1 × 4P + batch × 4 bytes × (1.9·rows + 9.5·one)
 * Measured → estimated over tiny/small/base at 112 and 224 px, batch 1–16: −6 … +6 % kept,
 * −1 … +15 % recomputed (the heap grows in steps, so its high-water mark is itself rounded up).
 */
import {
  gridOf,
  maskedCount,
  parameterCounts,
  presetConfig,
  type CamdConfig,
  type ModelConfig,
  type PresetName,
} from './config.js';

const MiB = 1024 * 1024;
/** emscripten's getHeapMax() of tfjs-backend-wasm's build: 4 GiB − 64 KiB. */
export const WASM_HEAP_MAX = 4294901760;
/** Refuse above this share of the ceiling (ViT-B/224 at batch 16, recomputed, measured 3 750 MiB, estimated 3 922). */
const USABLE = 0.97;
/** Heads of the projector and predictor blocks (method.md §2: 16 for every preset). */
const DECODER_HEADS = 16;

/** Recompute activations in the backward pass: only when needed to fit (auto), always, never. */
export type RecomputeMode = 'auto' | 'on' | 'off';
export const RECOMPUTE_MODES: readonly RecomputeMode[] = ['auto', 'on', 'off'];

export interface MemoryOptions {
  /** Activations recomputed in the backward pass (ops/recompute.ts). */
  recompute?: boolean;
  /** AdamW moments and momentum copy outside the heap (the native camd_ops addon); default true. */
  hostState?: boolean;
}

export interface MemoryEstimate {
  /** Weights, gradients, update temporaries (and the optimiser state where it is not in host memory). */
  fixedBytes: number;
  /** Activations and temporaries of one image of the batch. */
  perImageBytes: number;
  totalBytes: number;
  ceilingBytes: number;
  /** The largest batch that fits (0: not even one image). */
  maxBatch: number;
  fits: boolean;
  /** Whether this estimate is for recomputed activations. */
  recompute: boolean;
}

/** The wasm heap a pre-training step of this configuration needs at this batch. */
export function estimateWasmPretrain(cfg: CamdConfig, batch: number, o: MemoryOptions = {}): MemoryEstimate {
  const m = cfg.model;
  const recompute = o.recompute ?? false;
  const p = parameterCounts(m);
  const P = p.online + p.frozen;
  const { tokens: N } = gridOf(m);
  const V = N - maskedCount(cfg.mask.ratio, N);
  const D = Math.max(m.embedDim, m.decoderDim);
  const enc = V + 1;
  const pred = 1 + V + N;
  const rows = D * ((m.depth + m.projectorDepth) * enc + m.predictorDepth * pred);
  const state = o.hostState === false ? 4 * (2 * p.online + p.momentum) : 0;
  let fixedBytes: number;
  let perImageBytes: number;
  if (recompute) {
    const one = D * pred * 16 + DECODER_HEADS * pred * pred;
    fixedBytes = 2.1 * 4 * P + state;
    perImageBytes = 4 * (1.9 * rows + 9.5 * one);
  } else {
    const att =
      m.numHeads * m.depth * enc * enc +
      DECODER_HEADS * (m.projectorDepth * enc * enc + m.predictorDepth * pred * pred);
    fixedBytes = 8 * MiB + 2.7 * 4 * P + state;
    perImageBytes = 4 * (82 * rows + 5 * att);
  }
  const totalBytes = fixedBytes + batch * perImageBytes;
  const ceilingBytes = WASM_HEAP_MAX * USABLE;
  const maxBatch = Math.max(0, Math.floor((ceilingBytes - fixedBytes) / perImageBytes));
  return { fixedBytes, perImageBytes, totalBytes, ceilingBytes, maxBatch, fits: totalBytes <= ceilingBytes, recompute };
}

/**
 * The wasm heap of a fine-tuning step (finetune/classifier.ts: the encoder over all 1 + N tokens,
 * fc_norm, the head), with the per-row and per-attention-entry costs fitted for pre-training,
 * scaled to fine-tuning's own measurements: ViT-B/224 b4 kept 3 008 MiB → estimated 3 182 (+6 %),
 * b16 recomputed 1 820 MiB → 2 001 (+10 %).
 */
export function estimateWasmFinetune(m: ModelConfig, batch: number, o: MemoryOptions = {}): MemoryEstimate {
  const recompute = o.recompute ?? false;
  const C = m.embedDim;
  const L = 1 + (m.imgSize / m.patchSize) ** 2;
  const P = encoderParameters(m);
  const rows = C * m.depth * L;
  const state = o.hostState === false ? 4 * 2 * P : 0;
  const fixedBytes = (recompute ? 2.1 : 2.7) * 4 * P + (recompute ? 0 : 8 * MiB) + state;
  // pre-training's per-row costs, scaled to fine-tuning's measurements (no teacher, no losses over N × D)
  const perImageBytes = recompute
    ? 0.7 * 4 * (1.9 * rows + 9.5 * (C * L * 16 + m.numHeads * L * L))
    : 0.85 * 4 * (82 * rows + 5 * m.numHeads * m.depth * L * L);
  const totalBytes = fixedBytes + batch * perImageBytes;
  const ceilingBytes = WASM_HEAP_MAX * USABLE;
  const maxBatch = Math.max(0, Math.floor((ceilingBytes - fixedBytes) / perImageBytes));
  return { fixedBytes, perImageBytes, totalBytes, ceilingBytes, maxBatch, fits: totalBytes <= ceilingBytes, recompute };
}

/** Fine-tuning's plan: activations kept when that fits, recomputed when only that fits. */
export function planWasmFinetune(
  m: ModelConfig,
  batch: number,
  mode: RecomputeMode = 'auto',
  hostState = true,
): MemoryEstimate {
  if (mode !== 'auto') return estimateWasmFinetune(m, batch, { recompute: mode === 'on', hostState });
  const kept = estimateWasmFinetune(m, batch, { recompute: false, hostState });
  return kept.fits ? kept : estimateWasmFinetune(m, batch, { recompute: true, hostState });
}

/** One line saying why a fine-tuning step cannot fit the wasm heap and what to change; null when it fits. */
export function wasmFinetuneProblem(
  m: ModelConfig,
  batch: number,
  mode: RecomputeMode = 'auto',
  hostState = true,
): string | null {
  const e = planWasmFinetune(m, batch, mode, hostState);
  if (e.fits) return null;
  const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`;
  const change: string[] = [];
  if (mode === 'off' && planWasmFinetune(m, batch, 'auto', hostState).fits) change.push('--recompute auto');
  if (e.maxBatch >= 1) change.push(`--batch ${e.maxBatch} or less`);
  change.push('a smaller --img-size or preset', 'or a GPU backend (--backend tensorflow with CUDA, or webgpu)');
  return `fine-tuning ${m.embedDim}-wide ViT at ${m.imgSize} px, batch ${batch}, needs about ${gb(e.totalBytes)} of wasm memory${e.recompute ? ' even with activations recomputed' : ''}; the wasm backend can use at most ${gb(e.ceilingBytes)}: use ${change.join(', ')}`;
}

/** Parameters of the encoder alone (patch embedding, cls token, blocks). */
function encoderParameters(m: ModelConfig): number {
  const C = m.embedDim;
  const H = Math.round(C * m.mlpRatio);
  const block = 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + 2 * C + (C * H + H) + (H * C + C);
  return m.patchSize * m.patchSize * 3 * C + C + C + m.depth * block;
}

/**
 * The memory plan of a run: activations kept when that fits (faster), recomputed when only that
 * fits (`auto`), or as forced. The estimate returned is the one the run will have.
 */
export function planWasmPretrain(
  cfg: CamdConfig,
  batch: number,
  mode: RecomputeMode = 'auto',
  hostState = true,
): MemoryEstimate {
  if (mode !== 'auto') return estimateWasmPretrain(cfg, batch, { recompute: mode === 'on', hostState });
  const kept = estimateWasmPretrain(cfg, batch, { recompute: false, hostState });
  return kept.fits ? kept : estimateWasmPretrain(cfg, batch, { recompute: true, hostState });
}

/**
 * One line saying why a pre-training cannot run on the wasm backend and what to change (a batch
 * that fits, recomputation where it was turned off, a smaller image size, a smaller preset that
 * fits at this batch, a GPU backend); null when it fits.
 */
export function wasmMemoryProblem(
  cfg: CamdConfig,
  batch: number,
  mode: RecomputeMode = 'auto',
  hostState = true,
): string | null {
  const e = planWasmPretrain(cfg, batch, mode, hostState);
  if (e.fits) return null;
  // one decimal, two where the need and the ceiling would read the same
  const close = (e.totalBytes / 1e9).toFixed(1) === (e.ceilingBytes / 1e9).toFixed(1);
  const gb = (b: number) => `${(b / 1e9).toFixed(close ? 2 : 1)} GB`;
  const m = cfg.model;
  const what = `${cfg.preset}/${m.imgSize} at batch ${batch}`;
  const how = e.recompute ? (mode === 'on' ? ' with activations recomputed' : ' even with activations recomputed') : '';
  const need = `needs about ${gb(e.totalBytes)} of wasm memory${how} (weights, gradients${hostState ? '' : ', AdamW state and momentum copy'} ${gb(e.fixedBytes)}, activations ${gb(e.totalBytes - e.fixedBytes)})`;
  const ceiling = `the wasm backend can use at most ${gb(e.ceilingBytes)}`;
  const gpu = 'or a GPU backend (--backend tensorflow with CUDA, or webgpu)';
  const fits = (c: CamdConfig) => {
    try {
      return planWasmPretrain(c, batch, mode === 'off' ? 'auto' : mode, hostState).fits;
    } catch {
      return false; // an image size that preset cannot use
    }
  };
  const change: string[] = [];
  if (mode === 'off' && planWasmPretrain(cfg, batch, 'auto', hostState).fits) change.push('--recompute auto');
  if (e.maxBatch >= 1) change.push(`--batch ${e.maxBatch} or less`);
  if (m.imgSize > 112 && fits({ ...cfg, model: { ...m, imgSize: 112 } })) change.push('--img-size 112');
  const other = (['small', 'tiny'] as const).find(
    (p: PresetName) => p !== cfg.preset && fits(presetConfig(p, { imgSize: m.imgSize })),
  );
  if (other) change.push(`--preset ${other}`);
  if (!change.length) change.push('--preset tiny');
  return `${what} ${need}; ${ceiling}: use ${change.join(', ')}, ${gpu}`;
}
