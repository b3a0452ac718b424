/** A fine-tuning run's model: the backend it runs on, the classifier (from the encoder's weights) and its optimiser. */
import { selectBackend, type Selection } from '../backends/ladder.js';
import { planWasmFinetune, wasmFinetuneProblem } from '../model/memory.js';
import { hostStateKernels } from '../ops/host-state.js';
import { AdamW } from '../optim/adamw.js';
import { FINETUNE_DEFAULTS } from '../protocol/defaults.js';
import type { EventSink } from '../protocol/events.js';
import type { FinetuneSpec } from '../protocol/specs.js';
import { UserError } from '../util/errors.js';
import { Classifier } from './classifier.js';
import type { Encoder, FinetuneSettings } from './run-settings.js';

const DEFAULTS = FINETUNE_DEFAULTS;

/** The backend, and whether activations are recomputed in the backward pass. */
export async function chooseBackend(
  spec: FinetuneSpec,
  settings: FinetuneSettings,
  batch: number,
  emit: EventSink,
): Promise<{ sel: Selection; recompute: boolean }> {
  const { model, linearProbe } = settings;
  let sel;
  try {
    sel = await selectBackend(spec.backend ?? 'auto', { wasmThreads: spec.threads ?? 'auto' });
  } catch (e) {
    throw new UserError((e as Error).message, 2, 'backend');
  }
  // the memory plan on wasm, as for pre-training: refused when it cannot fit, recomputed when only that fits
  const hostState = hostStateKernels() !== null;
  const mode = spec.recompute ?? 'auto';
  if (sel.backend === 'wasm' && !linearProbe) {
    const tooBig = wasmFinetuneProblem(model, batch, mode, hostState);
    if (tooBig) throw new UserError(tooBig, 2, 'batch');
  }
  const recompute =
    !linearProbe &&
    (sel.backend === 'wasm' ? planWasmFinetune(model, batch, mode, hostState).recompute : mode === 'on');
  if (recompute && mode === 'auto')
    emit({
      type: 'log',
      level: 'info',
      message: 'activations are recomputed in the backward pass: kept, this step would not fit the wasm heap',
    });
  return { sel, recompute };
}

/** The classifier and its AdamW (no weight decay on biases, norms, cls_token, pos_embed); the caller disposes both. */
export function createClassifier(
  spec: FinetuneSpec,
  settings: FinetuneSettings,
  outputs: number,
  recompute: boolean,
): { clf: Classifier; opt: AdamW } {
  const clf = new Classifier(
    {
      model: settings.model,
      outputs,
      dropPath: settings.linearProbe ? 0 : (spec.dropPath ?? DEFAULTS.dropPath),
    },
    settings.seed,
  );
  clf.recompute = recompute;
  const opt = new AdamW(
    { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: spec.weightDecay ?? DEFAULTS.weightDecay },
    (name, shape) => !(shape.length <= 1 || name === 'cls_token' || name === 'pos_embed'),
  );
  return { clf, opt };
}

/** The encoder's weights into the classifier; returns how its pos_embed was made (recorded with the run). */
export function loadStartingWeights(clf: Classifier, encoder: Encoder | null, init: string): string {
  let posNote = '2-D sin-cos table (random init)';
  if (encoder) {
    try {
      posNote = clf.loadEncoder(encoder.tensors, init);
    } catch (e) {
      throw new UserError((e as Error).message, 2, 'init');
    }
  }
  return posNote;
}
