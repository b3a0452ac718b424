import { computed, ref, watch } from 'vue';
import { isUnfinished, settingsOfRun, type PresetName } from 'camd-studio/trainer/protocol';
import type { RunDetail } from '../../../electron/common/contract.js';
import { api } from '../api.js';
import { useRuns } from '../stores/runs.js';
import type { PretrainForm } from './usePretrainForm.js';

/** What a new pre-training run starts from: random weights, or a run of the store to carry on or take the weights of. */
export function useStartingRun(form: PretrainForm) {
  const runs = useRuns();
  /** Runs with something to start from: pre-training runs of this machine that made steps, and runs brought in from a cluster. */
  const startable = computed(() =>
    runs.list.filter((r) => r.kind === 'pretrain' && r.last_step > 0 && !isUnfinished(r.status)),
  );
  const fromDetail = ref<RunDetail | null>(null);
  watch(
    () => [form.start, form.fromRun] as const,
    async ([mode, id]) => {
      if (mode === 'random') return void (fromDetail.value = null);
      if (id === null && startable.value.length) form.fromRun = startable.value[0]!.id;
      fromDetail.value =
        form.fromRun === null ? null : await api.call('runs.get', { id: form.fromRun }).catch(() => null);
    },
    { immediate: true },
  );
  /** What the starting run says about itself: a cluster run's args, or a run of this machine's settings. */
  const source = computed(() => {
    const c = fromDetail.value?.config;
    if (!c) return null;
    return { ...settingsOfRun(c), done: c['source'] === 'torchrun' ? fromDetail.value!.last_step : null };
  });
  // carrying a run on: its length is the starting value of the epochs field
  watch(source, (x) => {
    if (form.start === 'continue' && x?.epochs) {
      form.length = 'epochs';
      form.epochs = x.epochs;
    }
  });
  const fromFile = computed(() => form.start !== 'random');
  /** The model the run will have: the form's, or the starting run's. */
  const presetUsed = computed<PresetName>(() => (fromFile.value ? (source.value?.preset ?? form.preset) : form.preset));
  return { startable, fromDetail, source, fromFile, presetUsed };
}
export type StartingRun = ReturnType<typeof useStartingRun>;
