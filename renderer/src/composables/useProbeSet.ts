import { computed, ref, watch } from 'vue';
import { api } from '../api.js';
import { useDatasets } from '../stores/datasets.js';
import type { PretrainForm } from './usePretrainForm.js';

/** The probe monitor's data: one of the app's labelled datasets and one of its label schemas. */
export function useProbeSet(form: PretrainForm) {
  const datasets = useDatasets();
  /** Datasets with labels made in the app: what the probe monitor can measure on. */
  const labelled = computed(() => datasets.list.filter((d) => d.labelled_count > 0));
  const probeSet = computed(() => labelled.value.find((d) => d.id === form.probeDataset) ?? null);
  /** The probe set's label schemas (the trainer needs to know which labels to measure). */
  const probeSchemas = ref<{ id: number; name: string; task: 'far' | 'fer' }[]>([]);
  watch(
    () => form.probeDataset,
    async (id) => {
      probeSchemas.value = id === null ? [] : await api.call('labels.schemas', { dataset: id }).catch(() => []);
      form.probeSchema = probeSchemas.value[0]?.id ?? null;
    },
  );
  const probeSchema = computed(() => probeSchemas.value.find((x) => x.id === form.probeSchema) ?? null);
  return { labelled, probeSet, probeSchemas, probeSchema };
}
export type ProbeSet = ReturnType<typeof useProbeSet>;
