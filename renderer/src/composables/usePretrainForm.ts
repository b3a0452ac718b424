import { reactive, watch } from 'vue';
import { useRoute, type LocationQuery } from 'vue-router';
import {
  PRESET_NAMES,
  PRETRAIN_DEFAULTS,
  presetConfig,
  type BackendChoice,
  type PresetName,
} from 'camd-studio/trainer/protocol';
import { api } from '../api.js';
import { runLabel } from '../format.js';

/** The pre-training form's fields, as the view binds them (a number field emptied by hand holds ''). */
export interface PretrainForm {
  dataset: number | null;
  name: string;
  preset: PresetName;
  imgSize: number | null;
  maskRatio: number;
  batch: number;
  length: 'epochs' | 'steps' | 'minutes';
  epochs: number;
  steps: number;
  /** The length as a time budget: turned into steps with the measured speed. */
  minutes: number;
  blr: number;
  warmupEpochs: number;
  seed: number;
  checkpointEvery: number;
  backend: BackendChoice;
  /** The probe monitor: one of the app's labelled datasets, probed every N epochs (null: a tenth of the run). */
  probeDataset: number | null;
  probeSchema: number | null;
  probeEvery: number | null;
  /** Random weights, or a run of the store to carry on (its settings, AdamW state and epoch) or to take the weights of. */
  start: 'random' | 'continue' | 'init';
  fromRun: string | null;
}

/**
 * The first values of the steps and time-budget fields: the trainer's own length is in epochs
 * (PRETRAIN_DEFAULTS.epochs), it has no default in steps or minutes.
 */
const FIRST_STEPS = 1000;
const FIRST_MINUTES = 30;

/** The form as a first visit opens it: the declared defaults, and the dataset or run the link names. */
function newForm(query: LocationQuery): PretrainForm {
  return {
    dataset: query['dataset'] ? Number(query['dataset']) : null,
    name: '',
    preset: PRETRAIN_DEFAULTS.preset,
    imgSize: null,
    maskRatio: PRETRAIN_DEFAULTS.maskRatio,
    batch: PRETRAIN_DEFAULTS.batch,
    length: 'epochs',
    epochs: PRETRAIN_DEFAULTS.epochs,
    steps: FIRST_STEPS,
    minutes: FIRST_MINUTES,
    blr: PRETRAIN_DEFAULTS.blr,
    warmupEpochs: PRETRAIN_DEFAULTS.warmupEpochs,
    seed: PRETRAIN_DEFAULTS.seed,
    checkpointEvery: PRETRAIN_DEFAULTS.checkpointEvery,
    backend: PRETRAIN_DEFAULTS.backend,
    probeDataset: null,
    probeSchema: null,
    probeEvery: null,
    start: query['continue'] ? 'continue' : query['init'] ? 'init' : 'random',
    fromRun: (query['continue'] ?? query['init'] ?? null) as string | null,
  };
}

// ---- the form starts from what you did last: the fields as you left them (this browser's storage),
// or, with ?again=RUN, that run's settings
const MEMORY = 'camd.pretrain.form';
const REMEMBERED = [
  'dataset',
  'name',
  'preset',
  'imgSize',
  'maskRatio',
  'batch',
  'length',
  'epochs',
  'steps',
  'minutes',
  'blr',
  'warmupEpochs',
  'seed',
  'checkpointEvery',
  'backend',
] as const;

/**
 * The pre-training form's fields: the declared defaults (PRETRAIN_DEFAULTS), or what was left in
 * the form last time, kept as they change; `again` fills them from a run.
 */
export function usePretrainForm() {
  const route = useRoute();
  const form = reactive(newForm(route.query));

  function recall(saved: Record<string, unknown>): void {
    const f = form as unknown as Record<string, unknown>;
    for (const k of REMEMBERED) {
      const v = saved[k];
      // only a value of the field's own kind (a number field may also be empty)
      if (
        v !== undefined &&
        (typeof v === typeof f[k] ||
          (v === null && (k === 'imgSize' || k === 'dataset')) ||
          (typeof v === 'number' && f[k] === null))
      )
        f[k] = v;
    }
  }
  // (not when the form is opened to start from a run: that run's settings lead)
  if (!route.query['again'] && !route.query['continue'] && !route.query['init']) {
    try {
      const saved = JSON.parse(localStorage.getItem(MEMORY) ?? 'null') as unknown;
      if (saved && typeof saved === 'object')
        recall({ ...(saved as Record<string, unknown>), ...(route.query['dataset'] ? { dataset: form.dataset } : {}) });
    } catch {
      // nothing usable kept: the defaults
    }
  }
  watch(
    form,
    () =>
      localStorage.setItem(
        MEMORY,
        JSON.stringify(Object.fromEntries(REMEMBERED.map((k) => [k, (form as unknown as Record<string, unknown>)[k]]))),
      ),
    { deep: true },
  );

  /** "Again with these settings": the run's own, its dataset, and its name with "again". */
  async function again(id: string): Promise<void> {
    const d = await api.call('runs.get', { id }).catch(() => null);
    if (!d) return;
    const st = (d.config['settings'] ?? {}) as Record<string, unknown>;
    const preset =
      typeof st['preset'] === 'string' && (PRESET_NAMES as readonly string[]).includes(st['preset'])
        ? (st['preset'] as PresetName)
        : form.preset;
    // the image size field stays empty when the run had its preset's own
    recall({
      preset,
      imgSize:
        typeof st['imgSize'] === 'number' && st['imgSize'] !== presetConfig(preset).model.imgSize
          ? st['imgSize']
          : null,
      maskRatio: st['maskRatio'],
      batch: st['batch'],
      blr: st['blr'],
      warmupEpochs: st['warmupEpochs'],
      seed: st['seed'],
      ...(typeof st['steps'] === 'number'
        ? { length: 'steps', steps: st['steps'] }
        : typeof st['epochs'] === 'number'
          ? { length: 'epochs', epochs: st['epochs'] }
          : {}),
    });
    if (d.dataset_id !== null) form.dataset = d.dataset_id;
    form.name = `${runLabel(d)} again`;
  }

  return { form, again };
}
