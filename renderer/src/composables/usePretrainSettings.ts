import { computed, type Ref } from 'vue';
import {
  PRETRAIN_DEFAULTS,
  parameterCounts,
  presetConfig,
  type BackendChoice,
  type PresetName,
} from 'camd-studio/trainer/protocol';
import { num } from '../field-number.js';
import { useDatasets } from '../stores/datasets.js';
import type { PretrainForm } from './usePretrainForm.js';
import type { StartingRun } from './useStartingRun.js';
import type { ProbeSet } from './useProbeSet.js';

/** A preset as the model field offers it: its size in words. */
export const presetNote = (p: PresetName) => {
  const m = presetConfig(p).model;
  return `${p} — ViT ${m.embedDim}×${m.depth}, ${m.imgSize} px${p === 'micro' ? ' (tiny test model: for trying the app)' : ''}`;
};

/**
 * What the form asks for: its dataset, the model the run will have, and the settings as the trainer
 * names them (a field left empty is left out: the trainer gives it its default).
 */
export function usePretrainSettings(
  form: PretrainForm,
  origin: Pick<StartingRun, 'source' | 'fromFile' | 'presetUsed'>,
  probe: Pick<ProbeSet, 'probeSet' | 'probeSchema'>,
  /** The time budget in steps, once the speed is measured. */
  budgetSteps: Ref<number | null>,
) {
  const datasets = useDatasets();
  const { source, fromFile, presetUsed } = origin;
  const dataset = computed(() => datasets.list.find((d) => d.id === form.dataset) ?? null);
  /** The preset's architecture (an image size the patches do not divide is a form error, not a crash). */
  const model = computed(() => presetConfig(presetUsed.value).model);
  const params = computed(() => parameterCounts(presetConfig(presetUsed.value).model));
  const imgHint = computed(
    () =>
      `a multiple of ${model.value.patchSize}; empty: ${source.value?.imgSize ?? model.value.imgSize}${fromFile.value && source.value?.imgSize ? " (the run's)" : ''}`,
  );

  const settings = computed(() => {
    // from a checkpoint, the model is the checkpoint's; carrying a run on, so are its masking, learning rate, warm-up and seed
    const carry = form.start === 'continue';
    const s = {
      preset: fromFile.value ? undefined : form.preset,
      imgSize: num(form.imgSize),
      maskRatio: carry ? undefined : num(form.maskRatio),
      batch: num(form.batch),
      epochs: form.length === 'epochs' ? num(form.epochs) : undefined,
      steps:
        form.length === 'steps'
          ? num(form.steps)
          : form.length === 'minutes'
            ? (budgetSteps.value ?? undefined)
            : undefined,
      blr: carry ? undefined : num(form.blr),
      warmupEpochs: carry ? undefined : num(form.warmupEpochs),
      seed: carry ? undefined : num(form.seed),
      checkpointEvery: num(form.checkpointEvery),
      backend: form.backend,
      ...(probe.probeSet.value && probe.probeSchema.value
        ? {
            probeData: probe.probeSet.value.root,
            probeFormat: 'store' as const,
            probeSchema: String(probe.probeSchema.value.id),
            probeEvery: num(form.probeEvery),
          }
        : {}),
    };
    return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as Partial<typeof s> & {
      backend: BackendChoice;
    };
  });
  const batch = computed(() => num(form.batch) ?? PRETRAIN_DEFAULTS.batch);

  return { dataset, model, params, imgHint, settings, batch };
}
export type FormSettings = ReturnType<typeof usePretrainSettings>;
