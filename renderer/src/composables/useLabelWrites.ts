import { reactive, type Ref } from 'vue';
import { api, messageOf } from '../api.js';
import type { LabelSchema } from '../../../electron/common/contract.js';
import { useDatasets } from '../stores/datasets.js';

export interface LabelChange {
  slot: number;
  value: number | null;
  y?: number | null;
}

/**
 * Saving labels as they are made, with who made them (there is no save button), and undo and redo of
 * the labeller's own actions. Each write reloads the labels of the faces it touched.
 */
export function useLabelWrites(o: {
  schema: Ref<LabelSchema | null>;
  who: Ref<string>;
  /** The model whose predictions an 'accepted' write takes. */
  run: () => string;
  loadLabels: (ids: number[]) => Promise<void>;
  /** Shows the face an undone or redone action was on. */
  showFace: (id: number | undefined) => void;
  status: Ref<string>;
  error: Ref<string | null>;
  /** Moves on every change (the progress tab counts again). */
  version: Ref<number>;
}) {
  const { schema, who, loadLabels, status, error, version } = o;
  const undo = reactive({ canUndo: false, canRedo: false });
  const datasets = useDatasets();

  async function write(
    images: number[],
    changes: LabelChange[],
    source: 'human' | 'accepted' = 'human',
  ): Promise<boolean> {
    const s = schema.value;
    if (!s || images.length === 0 || !who.value) return false;
    error.value = null;
    try {
      const r = await api.call('labels.write', {
        schema: s.id,
        images,
        labeller: who.value,
        changes,
        source,
        ...(source === 'accepted' ? { run: o.run() } : {}),
      });
      Object.assign(undo, { canUndo: r.canUndo, canRedo: r.canRedo });
      if (r.changed) datasets.lastLabelled = s.dataset_id;
      await loadLabels(images);
      version.value++;
      status.value = r.changed
        ? `Saved ${r.changed} label${r.changed === 1 ? '' : 's'} on ${images.length} face${images.length === 1 ? '' : 's'}.`
        : 'Nothing changed.';
      return true;
    } catch (e) {
      error.value = messageOf(e);
      return false;
    }
  }

  async function undoRedo(which: 'undo' | 'redo'): Promise<void> {
    const s = schema.value;
    if (!s || !who.value) return;
    try {
      const r = await api.call(which === 'undo' ? 'labels.undo' : 'labels.redo', {
        schema: s.id,
        labeller: who.value,
      });
      Object.assign(undo, { canUndo: r.canUndo, canRedo: r.canRedo });
      if (!r.undone) return void (status.value = `Nothing to ${which}.`);
      await loadLabels(r.undone.images);
      version.value++;
      o.showFace(r.undone.images[0]);
      status.value = `${which === 'undo' ? 'Undone' : 'Redone'}: ${r.undone.changes} change${r.undone.changes === 1 ? '' : 's'} on ${r.undone.images.length} face${r.undone.images.length === 1 ? '' : 's'}.`;
    } catch (e) {
      error.value = messageOf(e);
    }
  }

  /** Whether I have something to undo or redo in this schema (asked as the queue loads). */
  async function refreshUndo(schemaId: number): Promise<void> {
    Object.assign(undo, await api.call('labels.undoState', { schema: schemaId, labeller: who.value }));
  }

  return { undo, write, undoRedo, refreshUndo };
}

export type LabelWrites = ReturnType<typeof useLabelWrites>;
