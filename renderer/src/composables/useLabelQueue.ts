import { computed, reactive, ref, shallowRef, type Ref } from 'vue';
import { api, messageOf } from '../api.js';
import type { LabelSchema, QueueItem } from '../../../electron/common/contract.js';
import { useQueueLabels } from './useQueueLabels.js';

export type QueueFilter =
  | 'all'
  | 'unlabelled'
  | 'labelled'
  | 'not-mine'
  | 'disagreement'
  | 'model-disagreement'
  | 'low-confidence';

/**
 * The faces to label, in order (the first 1,000 of the queue), the one shown, and everyone's labels
 * and the chosen model's predictions of them.
 */
export function useLabelQueue(o: {
  schema: Ref<LabelSchema | null>;
  who: Ref<string>;
  status: Ref<string>;
  error: Ref<string | null>;
}) {
  const { schema, who, status, error } = o;
  /** Which faces, in which order: a filter, a label, the model whose predictions order and filter them. */
  const q = reactive({
    filter: 'unlabelled' as QueueFilter,
    label: '',
    run: '',
    order: 'path' as 'path' | 'uncertainty',
  });
  const items = shallowRef<QueueItem[]>([]);
  const total = ref(0);
  const index = ref(0);
  const current = computed(() => items.value[index.value] ?? null);
  const { labels, preds, loadLabels } = useQueueLabels(schema, () => q.run);
  let generation = 0;

  const needsRun = computed(
    () => q.filter === 'model-disagreement' || q.filter === 'low-confidence' || q.order === 'uncertainty',
  );
  const queueProblem = computed(() =>
    needsRun.value && !q.run
      ? 'Choose a model: its predictions order and filter the queue.'
      : !who.value
        ? 'Type your name as the labeller: every label is saved with who made it.'
        : null,
  );

  /** Loads the queue from its start; `onLoaded` runs once its faces and their labels are in (its errors are the queue's). */
  async function load(onLoaded?: (schemaId: number) => Promise<void>): Promise<void> {
    const s = schema.value;
    const gen = ++generation;
    items.value = [];
    index.value = 0;
    if (!s || queueProblem.value) return;
    try {
      const label = q.label ? { slot: Number(q.label.split(':')[0]), value: Number(q.label.split(':')[1]) } : undefined;
      const r = await api.call('labels.queue', {
        schema: s.id,
        filter: q.filter,
        order: q.order,
        limit: 1000,
        ...(label ? { label } : {}),
        ...(q.run ? { run: q.run } : {}),
        ...(q.filter === 'not-mine' ? { labeller: who.value } : {}),
      });
      if (gen !== generation) return;
      items.value = r.items;
      total.value = r.total;
      await loadLabels(r.items.map((i) => i.image_id));
      await onLoaded?.(s.id);
    } catch (e) {
      error.value = messageOf(e);
    }
  }

  /**
   * Faces of an "unlabelled faces" queue that have a label now: the queue stays as it was loaded while
   * you label (so going back and undo work), and says how many of its faces no longer belong to it,
   * with a way to show only the ones still unlabelled.
   */
  const labelledSinceLoad = computed(() =>
    q.filter === 'unlabelled' ? items.value.filter((i) => (labels.value.get(i.image_id)?.length ?? 0) > 0).length : 0,
  );

  function go(step: number): void {
    const n = items.value.length;
    if (n === 0) return;
    const next = index.value + step;
    if (next >= n)
      status.value =
        total.value > n
          ? `The first ${n.toLocaleString()} faces of this queue are done: reload the queue for the rest.`
          : 'The end of the queue.';
    index.value = Math.max(0, Math.min(n - 1, next));
  }
  const queueText = computed(() =>
    items.value.length ? `${(index.value + 1).toLocaleString()} of ${total.value.toLocaleString()}` : '',
  );

  return {
    q,
    items,
    total,
    index,
    current,
    labels,
    preds,
    needsRun,
    queueProblem,
    load,
    loadLabels,
    labelledSinceLoad,
    go,
    queueText,
  };
}
