import { computed, ref, watch, type Ref } from 'vue';
import { api, messageOf } from '../api.js';
import { runLabel } from '../format.js';
import { useDatasets } from '../stores/datasets.js';
import { useRuns } from '../stores/runs.js';
import type { LabelSchema } from '../../../electron/common/contract.js';

/**
 * The models that can help label: fine-tuned runs of this dataset, those with predictions on its faces
 * first. Predicting the faces with one is a background job; when it is done, the queue reloads.
 */
export function useLabelModels(o: {
  datasetId: Ref<number | null>;
  schema: Ref<LabelSchema | null>;
  /** The queue's chosen model (its `run`): the newest with predictions when none is chosen. */
  q: { run: string };
  error: Ref<string | null>;
  reloadQueue: () => Promise<void>;
}) {
  const { datasetId, schema, q, error } = o;
  const datasets = useDatasets();
  const runs = useRuns();

  const predictionRuns = ref<{ run_id: string; name: string | null; images: number }[]>([]);
  const fineTuned = computed(() =>
    runs.list.filter((r) => r.kind === 'finetune' && r.dataset_id === datasetId.value && r.status === 'done'),
  );
  const modelChoices = computed(() => {
    const withPreds = new Map(predictionRuns.value.map((p) => [p.run_id, p]));
    return [
      ...predictionRuns.value.map((p) => ({
        id: p.run_id,
        label: `${runs.byId.get(p.run_id) ? runLabel(runs.byId.get(p.run_id)!) : (p.name ?? p.run_id.slice(0, 8))} — ${p.images.toLocaleString()} faces predicted`,
        ready: true,
      })),
      ...fineTuned.value
        .filter((r) => !withPreds.has(r.id))
        .map((r) => ({ id: r.id, label: `${runLabel(r)} — not run on these faces yet`, ready: false })),
    ];
  });
  const predictJob = ref<string | null>(null);
  const predicting = computed(() => (predictJob.value ? datasets.jobs[predictJob.value] : undefined));
  async function loadModels(): Promise<void> {
    if (!schema.value) return;
    predictionRuns.value = await api.call('labels.predictionRuns', { schema: schema.value.id });
    if (!q.run && predictionRuns.value[0]) q.run = predictionRuns.value[0].run_id;
  }
  async function predict(): Promise<void> {
    if (!schema.value || !q.run) return;
    try {
      const j = await api.call('labels.predict', { schema: schema.value.id, run: q.run });
      datasets.jobs = { ...datasets.jobs, [j.id]: j };
      predictJob.value = j.id;
    } catch (e) {
      error.value = messageOf(e);
    }
  }
  watch(
    () => predicting.value?.status,
    async (s) => {
      if (s === 'done') {
        await loadModels();
        await o.reloadQueue();
      }
    },
  );
  /** Whether the chosen model has predictions on these faces (no model: nothing to wait for). */
  const runReady = computed(() => !q.run || predictionRuns.value.some((p) => p.run_id === q.run));

  return { predictionRuns, fineTuned, modelChoices, predicting, loadModels, predict, runReady };
}
