import { onBeforeUnmount, onMounted, ref } from 'vue';
import type { LabelField } from '../../../electron/common/contract.js';
import { keyAction, typingTarget, type KeyAction } from '../label-keys.js';

/**
 * The labelling keys (label-keys.ts says which key does what), listened for on the whole window while
 * the view is open, and only while labelling: never while typing in a field.
 */
export function useLabelKeyboard(o: {
  /** The schema's fields while the labelling tab is shown; null otherwise (the keys are not the view's). */
  fields: () => readonly LabelField[] | null;
  setClass: (field: number) => Promise<void>;
  toggle: (field: number) => Promise<void>;
  saveNext: () => Promise<void>;
  accept: () => Promise<void>;
  go: (step: number) => void;
  undoRedo: (which: 'undo' | 'redo') => Promise<void>;
  toggleGrid: () => void;
}) {
  /** The keys shown in full ('?'). */
  const help = ref(false);
  function onKey(ev: KeyboardEvent): void {
    const fields = o.fields();
    if (!fields || typingTarget(ev.target)) return;
    const a: KeyAction | null = keyAction(
      { key: ev.key, ctrl: ev.ctrlKey, meta: ev.metaKey, shift: ev.shiftKey, alt: ev.altKey },
      fields,
    );
    if (!a) return;
    ev.preventDefault();
    switch (a.do) {
      case 'class':
        return void o.setClass(a.field);
      case 'toggle':
        return void o.toggle(a.field);
      case 'save-next':
        return void o.saveNext();
      case 'accept':
        return void o.accept();
      case 'skip':
      case 'next':
        return void o.go(1);
      case 'prev':
        return void o.go(-1);
      case 'undo':
        return void o.undoRedo('undo');
      case 'redo':
        return void o.undoRedo('redo');
      case 'grid':
        o.toggleGrid();
        return;
      case 'help':
        help.value = !help.value;
    }
  }
  onMounted(() => window.addEventListener('keydown', onKey));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey));
  return { help };
}
