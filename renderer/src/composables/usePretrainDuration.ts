import { computed, ref, watch, type Ref } from 'vue';
import { PRETRAIN_DEFAULTS, isWorking, type PresetName } from 'camd-studio/trainer/protocol';
import type { OpResult } from '../../../electron/common/contract.js';
import { api, messageOf } from '../api.js';
import { num } from '../field-number.js';
import { useRuns } from '../stores/runs.js';
import type { PretrainForm } from './usePretrainForm.js';
import type { FormSettings } from './usePretrainSettings.js';

/**
 * The measured speed of a step (three real steps of the run's settings), and the time budget in
 * steps at that speed. The settings use the budget and the measure follows the settings: the state
 * is made first, the measuring (useMeasuredDuration) once the settings are known.
 */
export function useStepEstimate(form: PretrainForm) {
  const runs = useRuns();
  const estimate = ref<OpResult<'runs.estimate'> | null>(null);
  const estimating = ref(false);
  const estimateError = ref<string | null>(null);
  /** A run trains: the speed is not measured meanwhile (it would slow that run down). */
  const training = computed(() => runs.list.some((r) => isWorking(r.status)));
  /** The time budget in steps: the budget over the measured step time (null until measured). */
  const budgetSteps = computed(() =>
    estimate.value && num(form.minutes)
      ? Math.max(1, Math.floor((num(form.minutes)! * 60) / estimate.value.stepSeconds))
      : null,
  );
  return { estimate, estimating, estimateError, training, budgetSteps };
}
export type StepEstimate = ReturnType<typeof useStepEstimate>;

/**
 * How long: three real steps are measured as soon as the model, size, batch or compute change
 * (not while a run trains: it would slow it), and the schedule's duration follows the length fields.
 */
export function useMeasuredDuration(o: {
  form: PretrainForm;
  speed: StepEstimate;
  presetUsed: Ref<PresetName>;
  s: Pick<FormSettings, 'dataset' | 'settings' | 'batch'>;
  problems: Ref<Record<string, string>>;
}) {
  const { form, speed, presetUsed, problems } = o;
  const { estimate, estimating, estimateError, training } = speed;
  const { dataset, settings, batch } = o.s;
  /** What the speed of a step depends on; the length does not change it. */
  const speedKey = computed(() =>
    JSON.stringify({
      dataset: form.dataset,
      preset: presetUsed.value,
      imgSize: num(form.imgSize) ?? null,
      batch: batch.value,
      backend: form.backend,
      maskRatio: num(form.maskRatio) ?? null,
    }),
  );
  let measured = 0;
  async function measure(): Promise<void> {
    if (form.dataset === null) return;
    const ticket = ++measured;
    estimating.value = true;
    estimateError.value = null;
    try {
      // three steps of the model the run will have, one epoch long (the length is applied here, below)
      const { epochs: _e, steps: _s, ...speedOnly } = settings.value;
      const e = await api.call('runs.estimate', {
        dataset: form.dataset,
        settings: { ...speedOnly, preset: presetUsed.value, epochs: 1 },
      });
      if (ticket === measured) estimate.value = e;
    } catch (e) {
      if (ticket === measured) estimateError.value = messageOf(e);
    } finally {
      if (ticket === measured) estimating.value = false;
    }
  }
  /** Problems of the fields the speed depends on (not of the length, which the estimate does not need). */
  const speedProblems = computed(() =>
    Object.keys(problems.value).filter(
      (k) =>
        !['epochs', 'steps', 'minutes', 'warmupEpochs', 'blr', 'seed', 'checkpointEvery', 'probeEvery'].includes(k),
    ),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  watch(
    [speedKey, training],
    () => {
      estimate.value = null;
      estimateError.value = null;
      clearTimeout(timer);
      if (form.dataset === null || training.value || speedProblems.value.length > 0) return;
      timer = setTimeout(() => void measure(), 600);
    },
    { immediate: true },
  );
  /** The schedule's duration at the measured speed. */
  const plan = computed(() => {
    const e = estimate.value;
    if (!e || !dataset.value) return null;
    const ipe = e.stepsPerEpoch;
    const steps =
      form.length === 'epochs'
        ? Math.max(1, Math.round((num(form.epochs) ?? PRETRAIN_DEFAULTS.epochs) * ipe))
        : (settings.value.steps ?? 0);
    return { steps, epochs: steps / ipe, seconds: steps * e.stepSeconds };
  });
  return { measure, plan };
}
