import type { Ref } from 'vue';
import type { Annotation, LabelField, LabelSchema, Prediction } from '../../../electron/common/contract.js';

/** A confidence as a percentage: one decimal (models early in training sit near chance, where whole percents all look the same). */
export const pct = (c: number) => `${(c * 100).toFixed(1)} %`;

/** One face as the labeller sees it: what I said, what others said, what the model says. */
export function useFaceLabels(o: {
  schema: Ref<LabelSchema | null>;
  main: Ref<LabelField[]>;
  who: Ref<string>;
  fieldName: (id: number) => string;
  labels: Ref<Map<number, Annotation[]>>;
  preds: Ref<Map<number, Prediction[]>>;
}) {
  const { schema, main, who, fieldName, labels, preds } = o;

  const mine = (id: number) => (labels.value.get(id) ?? []).filter((a) => a.labeller === who.value);
  const others = (id: number) => (labels.value.get(id) ?? []).filter((a) => a.labeller !== who.value);
  function myClass(id: number): number | null {
    return mine(id).find((a) => a.slot === 0)?.value ?? null;
  }
  /** The attribute vector shown for a face: my labels, absent where I have none. */
  function myVector(id: number): Map<number, number> {
    const m = new Map(main.value.map((f) => [f.id, 0]));
    for (const a of mine(id)) if (m.has(a.slot)) m.set(a.slot, a.value);
    return m;
  }
  const myLabelled = (id: number) =>
    mine(id).some((a) => (schema.value?.task === 'fer' ? a.slot === 0 : main.value.some((f) => f.id === a.slot)));
  function predictionText(id: number): { text: string; confidence: number } | null {
    const ps = preds.value.get(id) ?? [];
    if (!ps.length || !schema.value) return null;
    if (schema.value.task === 'fer') {
      const p = ps.find((x) => x.slot === 0);
      return p ? { text: fieldName(p.value), confidence: p.confidence } : null;
    }
    const yes = ps.filter((p) => p.value === 1).map((p) => fieldName(p.slot));
    return {
      text: yes.length ? yes.join(', ') : 'none of the attributes',
      confidence: Math.min(...ps.map((p) => p.confidence)),
    };
  }
  const predOf = (id: number, slot: number) => (preds.value.get(id) ?? []).find((p) => p.slot === slot);
  /** The newest label of a face, by anyone. */
  function lastChange(id: number): Annotation | null {
    const all = labels.value.get(id) ?? [];
    return all.length ? all.reduce((a, b) => (a.at > b.at ? a : b)) : null;
  }
  /** A grid cell's caption: my class, or my attributes ('none' when I said none). */
  function gridBadge(id: number): string {
    if (schema.value?.task === 'fer') {
      const c = myClass(id);
      return c === null ? '' : fieldName(c);
    }
    const v = mine(id).filter((a) => a.value === 1 && main.value.some((f) => f.id === a.slot));
    return myLabelled(id) ? (v.length ? v.map((a) => fieldName(a.slot)).join(', ') : 'none') : '';
  }

  return { mine, others, myClass, myVector, predictionText, predOf, lastChange, gridBadge };
}

export type FaceLabels = ReturnType<typeof useFaceLabels>;
