import { ref, type Ref } from 'vue';
import type { LabelField, LabelSchema, Prediction, QueueItem } from '../../../electron/common/contract.js';
import { keyName } from '../label-keys.js';
import type { FaceLabels } from './useFaceLabels.js';
import type { LabelWrites } from './useLabelWrites.js';

/**
 * What a key or a button does to the faces: on one face, a class is set and the next face shown, an
 * attribute toggled; in the grid, the same to every selected face at once.
 */
export function useLabelActions(o: {
  schema: Ref<LabelSchema | null>;
  main: Ref<LabelField[]>;
  current: Ref<QueueItem | null>;
  mode: Ref<'one' | 'grid'>;
  selected: Ref<Set<number>>;
  /** The chosen model, whose prediction Shift+Enter accepts. */
  run: () => string;
  preds: Ref<Map<number, Prediction[]>>;
  faces: Pick<FaceLabels, 'myClass' | 'myVector'>;
  write: LabelWrites['write'];
  go: (step: number) => void;
  status: Ref<string>;
}) {
  const { schema, main, current, mode, selected, preds, faces, write, go, status } = o;
  const fullVector = (v: Map<number, number>) => [...v].map(([slot, value]) => ({ slot, value }));

  async function setClass(field: number): Promise<void> {
    if (mode.value === 'grid') return void write([...selected.value], [{ slot: 0, value: field }]);
    if (current.value && (await write([current.value.image_id], [{ slot: 0, value: field }]))) go(1);
  }
  async function toggle(field: number): Promise<void> {
    if (mode.value === 'grid') {
      const ids = [...selected.value];
      const present = ids.filter((id) => faces.myVector(id).get(field) === 1).length;
      return void write(ids, [{ slot: field, value: present > ids.length / 2 ? 0 : 1 }]);
    }
    if (!current.value) return;
    const v = faces.myVector(current.value.image_id);
    v.set(field, v.get(field) === 1 ? 0 : 1);
    await write([current.value.image_id], fullVector(v)); // the whole vector: what is shown is what is saved
  }
  async function saveNext(): Promise<void> {
    const c = current.value;
    if (!c) return;
    if (schema.value?.task === 'far') {
      if (await write([c.image_id], fullVector(faces.myVector(c.image_id)))) go(1);
    } else if (faces.myClass(c.image_id) !== null) go(1);
    else
      status.value = `Choose a class (${main.value
        .filter((f) => f.shortcut)
        .map((f) => keyName(f.shortcut!))
        .join(', ')}) or press Space to skip.`;
  }
  async function accept(): Promise<void> {
    const c = current.value;
    if (!c || !o.run())
      return void (status.value = 'Choose a model first: its prediction is what Shift+Enter accepts.');
    const ps = preds.value.get(c.image_id) ?? [];
    if (!ps.length) return void (status.value = 'The model has no prediction on this face.');
    const changes =
      schema.value?.task === 'fer'
        ? ps.filter((p) => p.slot === 0).map((p) => ({ slot: 0, value: p.value }))
        : ps.filter((p) => main.value.some((f) => f.id === p.slot)).map((p) => ({ slot: p.slot, value: p.value }));
    if (await write([c.image_id], changes, 'accepted')) go(1);
  }
  async function setNumber(f: LabelField, ev: Event): Promise<void> {
    const raw = (ev.target as HTMLInputElement).value;
    if (!current.value) return;
    await write([current.value.image_id], [{ slot: f.id, value: raw === '' ? null : Number(raw) }]);
  }
  /** The point field waiting for a click on the face, if any. */
  const placing = ref<number | null>(null);
  async function placePoint(ev: MouseEvent): Promise<void> {
    if (placing.value === null || !current.value) return;
    const r = (ev.currentTarget as HTMLElement).getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width));
    const y = Math.min(1, Math.max(0, (ev.clientY - r.top) / r.height));
    const f = placing.value;
    placing.value = null;
    await write([current.value.image_id], [{ slot: f, value: x, y }]);
  }

  return { setClass, toggle, saveNext, accept, setNumber, placing, placePoint };
}
