import { computed, ref } from 'vue';
import {
  PRETRAIN_DEFAULTS,
  describeIssue,
  planWasmPretrain,
  presetConfig,
  wasmMemoryProblem,
} from 'camd-studio/trainer/protocol';
import { PretrainSettings } from '../../../electron/common/contract.js';
import { num } from '../field-number.js';
import { useSystem } from '../stores/system.js';
import type { PretrainForm } from './usePretrainForm.js';
import type { StartingRun } from './useStartingRun.js';
import type { FormSettings } from './usePretrainSettings.js';
import type { StepEstimate } from './usePretrainDuration.js';

/**
 * What is wrong with the form, field by field, before anything is sent (the trainer's own check,
 * the dataset's size, the wasm heap), or what the app said when the run was refused; and the
 * warm-up that would take up most of a short run.
 */
export function usePretrainChecks(
  form: PretrainForm,
  origin: Pick<StartingRun, 'fromFile' | 'presetUsed'>,
  s: Pick<FormSettings, 'dataset' | 'model' | 'settings' | 'batch'>,
  speed: Pick<StepEstimate, 'budgetSteps' | 'estimateError'>,
) {
  const system = useSystem();
  const { fromFile, presetUsed } = origin;
  const { dataset, model, settings, batch } = s;

  /** The same check the trainer makes, before anything is sent. */
  const problems = computed<Record<string, string>>(() => {
    const r = PretrainSettings.safeParse(settings.value, { reportInput: true });
    const out: Record<string, string> = {};
    if (!r.success)
      for (const i of r.error.issues) {
        const d = describeIssue(i);
        if (d.field && !out[d.field]) out[d.field] = d.message;
      }
    if (form.length === 'minutes') {
      if (!(num(form.minutes)! > 0)) out['minutes'] = 'give a time budget in minutes, more than 0';
      else if (speed.budgetSteps.value === null)
        out['minutes'] = speed.estimateError.value
          ? 'the speed could not be measured (above): give the length in epochs or steps'
          : 'measuring the speed, to turn the budget into steps…';
    }
    if (dataset.value && batch.value > dataset.value.image_count)
      out['batch'] = `the dataset has ${dataset.value.image_count} readable image(s), fewer than the batch`;
    if (num(form.imgSize) && num(form.imgSize)! % model.value.patchSize !== 0)
      out['imgSize'] = `must be a multiple of the patch size ${model.value.patchSize}`;
    else if (onWasm.value && !out['batch']) {
      const tooBig = wasmMemoryProblem(
        presetConfig(presetUsed.value, { imgSize: num(form.imgSize) ?? model.value.imgSize }),
        batch.value,
      );
      if (tooBig) out['batch'] = tooBig;
    }
    return out;
  });

  /** Will the step run on the wasm backend (chosen, or what auto picks here)? Its heap stops at 4 GB: the trainer's own estimate. */
  const onWasm = computed(
    () =>
      form.backend === 'wasm' ||
      (form.backend === 'auto' && system.backends().find(([, r]) => r['selectedByAuto'])?.[0] === 'wasm'),
  );
  const memory = computed(() => {
    try {
      return planWasmPretrain(
        presetConfig(presetUsed.value, { imgSize: num(form.imgSize) ?? model.value.imgSize }),
        batch.value,
      );
    } catch {
      return null; // an image size the preset cannot use: said above
    }
  });
  /** The app's refusal of the run, and the field it names (if any). */
  const serverField = ref<string | null>(null);
  const error = ref<string | null>(null);
  const problemOf = (f: string) => problems.value[f] ?? (serverField.value === f ? error.value : null);
  const canStart = computed(
    () =>
      form.dataset !== null && Object.keys(problems.value).length === 0 && (!fromFile.value || form.fromRun !== null),
  );

  const warmupNote = computed(() => {
    if (!dataset.value) return null;
    const ipe = Math.floor(dataset.value.image_count / Math.max(1, batch.value));
    const total =
      form.length === 'epochs'
        ? Math.round((num(form.epochs) ?? PRETRAIN_DEFAULTS.epochs) * ipe)
        : (settings.value.steps ?? 0);
    const warmupEpochs = num(form.warmupEpochs) ?? PRETRAIN_DEFAULTS.warmupEpochs;
    const warm = warmupEpochs * ipe;
    return warm >= 0.5 * total && warm > 0
      ? `The warm-up (${warmupEpochs} epochs = ${Math.round(warm)} steps) covers most of this ${total}-step run; for a short run, lower it.`
      : null;
  });

  return { problems, onWasm, memory, serverField, error, problemOf, canStart, warmupNote };
}
export type PretrainChecks = ReturnType<typeof usePretrainChecks>;
