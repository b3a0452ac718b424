import { onBeforeUnmount, onMounted } from 'vue';
import { typingTarget } from '../label-keys.js';

/** What a key does in the landmark editor (docs/app.md, "Annotating landmarks and pose"). */
export type LandmarkKey =
  | { do: 'select'; step: 1 | -1 }
  | { do: 'nudge'; dx: number; dy: number }
  | { do: 'undo' }
  | { do: 'redo' }
  | { do: 'save-next' }
  | { do: 'image'; step: 1 | -1 };

/**
 * The key's action: Tab / ] the next point, Shift+Tab / [ the previous; the arrows move the selected
 * point 1 px (Shift: 10 px); Ctrl+Z undo, Ctrl+Shift+Z or Ctrl+Y redo (⌘ on a Mac); Enter saves and
 * goes to the next image; PageDown / PageUp the next / previous image.
 */
export function landmarkKey(e: {
  key: string;
  ctrl: boolean;
  meta: boolean;
  shift: boolean;
  alt: boolean;
}): LandmarkKey | null {
  const mod = e.ctrl || e.meta;
  if (e.alt) return null;
  if (mod) {
    const k = e.key.toLowerCase();
    if (k === 'z') return { do: e.shift ? 'redo' : 'undo' };
    if (k === 'y') return { do: 'redo' };
    return null;
  }
  const step = e.shift ? 10 : 1;
  switch (e.key) {
    case 'Tab':
      return { do: 'select', step: e.shift ? -1 : 1 };
    case ']':
      return { do: 'select', step: 1 };
    case '[':
      return { do: 'select', step: -1 };
    case 'ArrowLeft':
      return { do: 'nudge', dx: -step, dy: 0 };
    case 'ArrowRight':
      return { do: 'nudge', dx: step, dy: 0 };
    case 'ArrowUp':
      return { do: 'nudge', dx: 0, dy: -step };
    case 'ArrowDown':
      return { do: 'nudge', dx: 0, dy: step };
    case 'Enter':
      return { do: 'save-next' };
    case 'PageDown':
      return { do: 'image', step: 1 };
    case 'PageUp':
      return { do: 'image', step: -1 };
  }
  return null;
}

/** The editor's keys on the whole window while `active()`, never while typing in a field. */
export function useLandmarkKeyboard(active: () => boolean, act: (a: LandmarkKey) => void) {
  function onKey(ev: KeyboardEvent): void {
    if (!active() || typingTarget(ev.target)) return;
    const a = landmarkKey({ key: ev.key, ctrl: ev.ctrlKey, meta: ev.metaKey, shift: ev.shiftKey, alt: ev.altKey });
    if (!a) return;
    // Enter on a focused button is the button's own
    if (a.do === 'save-next' && (ev.target as HTMLElement | null)?.tagName?.toLowerCase() === 'button') return;
    ev.preventDefault();
    act(a);
  }
  onMounted(() => window.addEventListener('keydown', onKey));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey));
}
