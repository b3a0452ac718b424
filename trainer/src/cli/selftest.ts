/**
 * `camd selftest`: picks a backend exactly as training will (`--backend`), says which and why
 * the others were skipped, and runs a few real CAMD training steps on synthetic data.
 */
import * as tf from '@tensorflow/tfjs';
import { BACKEND_CHOICES_TEXT, isBackendChoice, selectBackend } from '../backends/ladder.js';
import { PRESET_NAMES, presetConfig, type PresetName } from '../model/config.js';
import { CamdTrainer } from '../train/step.js';
import { disposeBatch, syntheticHostBatch, toDeviceBatch } from '../train/synthetic.js';
import { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { parseNumber, parseThreads } from './parse.js';
import { planWasmPretrain, RECOMPUTE_MODES, wasmMemoryProblem, type RecomputeMode } from '../model/memory.js';
import { hostStateKernels } from '../ops/host-state.js';

export interface SelftestOptions {
  backend: string;
  preset: string;
  imgSize?: string;
  maskRatio?: string;
  batch: string;
  steps: string;
  threads: string;
  recompute?: string;
  json?: boolean;
}

function positiveInt(flag: string, s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a positive integer, got '${s}'`);
  return n;
}

export async function selftest(o: SelftestOptions): Promise<void> {
  if (!isBackendChoice(o.backend)) throw new UserError(`--backend must be ${BACKEND_CHOICES_TEXT}, got '${o.backend}'`);
  if (!(PRESET_NAMES as readonly string[]).includes(o.preset))
    throw new UserError(`--preset must be one of ${PRESET_NAMES.join(', ')}, got '${o.preset}'`);
  const batch = positiveInt('--batch', o.batch);
  const steps = positiveInt('--steps', o.steps);
  let sel;
  try {
    sel = await selectBackend(o.backend, { wasmThreads: parseThreads(o.threads) });
  } catch (e) {
    throw new UserError(e instanceof Error ? e.message : String(e));
  }
  const log = (s: string) => (o.json ? undefined : process.stdout.write(`${s}\n`));
  log(`backend: ${sel.backend} (${sel.package})`);
  for (const s of sel.skipped) log(`  skipped ${s}`);
  let cfg;
  try {
    cfg = presetConfig(o.preset as PresetName, {
      imgSize: o.imgSize === undefined ? undefined : positiveInt('--img-size', o.imgSize),
      maskRatio: parseNumber('--mask-ratio', o.maskRatio, 'float'),
    });
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  cfg.optim.warmupEpochs = 0; // update from the first step
  const mode = (o.recompute ?? 'auto') as RecomputeMode;
  if (!RECOMPUTE_MODES.includes(mode))
    throw new UserError(`--recompute must be ${RECOMPUTE_MODES.join(', ')}, got '${o.recompute}'`);
  // the same memory plan as training: refused when it cannot fit, recomputed when only that fits
  const hostState = hostStateKernels() !== null;
  if (sel.backend === 'wasm') {
    const tooBig = wasmMemoryProblem(cfg, batch, mode, hostState);
    if (tooBig) throw new UserError(tooBig, 2, 'batch');
  }
  const recompute = sel.backend === 'wasm' ? planWasmPretrain(cfg, batch, mode, hostState).recompute : mode === 'on';
  if (recompute) log('activations recomputed in the backward pass');
  const trainer = new CamdTrainer(cfg, 0, { epochs: 10, itersPerEpoch: 10, batchSize: batch }, { recompute });
  const b = toDeviceBatch(syntheticHostBatch(cfg, batch, new Rng(0)));
  const results = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const m = await trainer.trainStep(b);
    const ms = performance.now() - t0;
    if (!Number.isFinite(m.loss)) throw new Error(`non-finite loss at step ${i + 1}`);
    results.push({ step: i + 1, ms, ...m });
    log(
      `step ${i + 1}/${steps}: loss ${m.loss.toFixed(4)} (dense ${m.loss_dense.toFixed(4)}, global ${m.loss_global.toFixed(4)}, agmd ${m.loss_agmd.toFixed(4)}), ${(ms / 1000).toFixed(2)} s`,
    );
  }
  disposeBatch(b);
  trainer.dispose();
  const leaked = tf.memory().numTensors;
  if (o.json)
    process.stdout.write(
      `${JSON.stringify({ backend: sel.backend, package: sel.package, skipped: sel.skipped, preset: o.preset, imgSize: cfg.model.imgSize, batch, recompute, steps: results, liveTensors: leaked })}\n`,
    );
  else log(`ok: ${steps} CAMD training step(s) of preset ${o.preset} on ${sel.backend}`);
}
