/**
 * What the three geometry tasks' runs (landmarks, pose, parsing) set up alike: a seeded share of a
 * dataset held out for testing when it has no test set of its own, and the model to fine-tune — the
 * encoder of a `camd pretrain` checkpoint (or a preset's random weights) at the asked input size, on
 * the chosen backend.
 */
import { selectBackend, type Selection } from '../backends/ladder.js';
import { readEncoder } from '../finetune/classifier.js';
import { type ModelConfig, presetConfig, type PresetName } from '../model/config.js';
import { Rng } from '../util/rng.js';

/** The share of a dataset held out for testing when it has no test set of its own. */
export const TEST_FRACTION = 0.2;

/** `items` shuffled by a seed (`fork` names the draw, so each task keeps its own), TEST_FRACTION held out (at least one). */
export function seededSplit<T>(items: readonly T[], seed: number, fork: string): { train: T[]; test: T[] } {
  const order = items.map((_, i) => i);
  const rng = new Rng(seed).fork(fork);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const nTest = Math.max(1, Math.round(order.length * TEST_FRACTION));
  return { test: order.slice(0, nTest).map((i) => items[i]!), train: order.slice(nTest).map((i) => items[i]!) };
}

/** Which faces a run (or `camd eval` of its model) tests on, in words. */
export function testSplitWords(testData: string | undefined, test: number, total: number, seed: number): string {
  return testData !== undefined
    ? `the dataset's own test set (${testData}): ${test} faces`
    : `a seeded ${test} of ${total} held out for testing (seed ${seed})`;
}

/** The model a run fine-tunes: its configuration, the encoder's tensors (none for random weights) and the backend. */
export async function startingModel(spec: {
  init: string;
  preset?: PresetName | undefined;
  imgSize?: number | undefined;
  backend?: string | undefined;
}): Promise<{ model: ModelConfig; encoder: ReturnType<typeof readEncoder> | null; sel: Selection }> {
  const encoder = spec.init === 'none' ? null : readEncoder(spec.init);
  const base: ModelConfig = encoder ? encoder.model : presetConfig(spec.preset ?? 'tiny').model;
  const model: ModelConfig = { ...base, imgSize: spec.imgSize ?? base.imgSize };
  const sel = await selectBackend((spec.backend ?? 'auto') as Parameters<typeof selectBackend>[0], {});
  return { model, encoder, sel };
}
