import { shallowRef, type Ref } from 'vue';
import { api } from '../api.js';
import type { Annotation, LabelSchema, Prediction } from '../../../electron/common/contract.js';

/** Everyone's labels of the faces loaded, and the chosen model's predictions of them, by image. */
export function useQueueLabels(schema: Ref<LabelSchema | null>, run: () => string) {
  const labels = shallowRef(new Map<number, Annotation[]>());
  const preds = shallowRef(new Map<number, Prediction[]>());

  /** Everyone's labels (and the chosen run's predictions) of these faces, 500 at a time. */
  async function loadLabels(ids: number[]): Promise<void> {
    const s = schema.value;
    if (!s || ids.length === 0) return;
    const nextL = new Map(labels.value);
    const nextP = new Map(preds.value);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const r = await api.call('labels.of', { schema: s.id, images: chunk, ...(run() ? { run: run() } : {}) });
      for (const id of chunk) {
        nextL.set(
          id,
          r.annotations.filter((a) => a.image_id === id),
        );
        nextP.set(
          id,
          r.predictions.filter((p) => p.image_id === id),
        );
      }
    }
    labels.value = nextL;
    preds.value = nextP;
  }

  return { labels, preds, loadLabels };
}
