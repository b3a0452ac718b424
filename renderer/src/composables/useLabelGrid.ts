import { ref, type Ref } from 'vue';
import type { QueueItem } from '../../../electron/common/contract.js';

/** One face at a time, or the grid: faces selected with a click, Shift+click a range, Ctrl+click to add or remove. */
export function useLabelGrid(items: Ref<QueueItem[]>, index: Ref<number>) {
  const mode = ref<'one' | 'grid'>('one');
  const selected = ref(new Set<number>());
  let anchor = -1;
  function pick(k: number, ev: MouseEvent): void {
    const id = items.value[k]!.image_id;
    const next = new Set(ev.ctrlKey || ev.metaKey || ev.shiftKey ? selected.value : []);
    if (ev.shiftKey && anchor >= 0)
      for (let i = Math.min(anchor, k); i <= Math.max(anchor, k); i++) next.add(items.value[i]!.image_id);
    else if (next.has(id) && (ev.ctrlKey || ev.metaKey)) next.delete(id);
    else next.add(id);
    anchor = k;
    selected.value = next;
  }
  function openOne(k: number): void {
    index.value = k;
    mode.value = 'one';
  }
  const selectAll = () => (selected.value = new Set(items.value.map((i) => i.image_id)));
  const clear = () => (selected.value = new Set());
  /** After an undo or redo: one face at a time shows the face the action was on, when the queue has it. */
  function showFace(id: number | undefined): void {
    const at = items.value.findIndex((i) => i.image_id === id);
    if (mode.value === 'one' && at >= 0) index.value = at;
  }
  return { mode, selected, pick, openOne, selectAll, clear, showFace };
}
