/**
 * The labelling view's keyboard, as a pure function: a key press (with its modifiers) and the
 * schema's shortcuts give one action. Field shortcuts are single characters given by the schema
 * (classes 1–9, 0, then letters; attributes letters first); the view's own keys are never a
 * field's (RESERVED_KEYS in the trainer's templates).
 *
 *   class key      set the class and go to the next face      attribute key   toggle it (saved)
 *   Enter          save what is shown and go to the next face  Shift+Enter     accept the model's prediction
 *   Space          skip (next face, nothing saved)             ← / →           previous / next face
 *   Ctrl+Z         undo my last action                         Ctrl+Shift+Z, Ctrl+Y   redo
 *   G              grid ⇄ one face (the schema may not use g)  ?               show the keys
 */
export interface KeyPress {
  key: string;
  ctrl: boolean;
  meta: boolean;
  shift: boolean;
  alt: boolean;
}

export interface FieldKey {
  id: number;
  kind: 'attribute' | 'class' | 'number' | 'point';
  shortcut: string | null;
}

export type KeyAction =
  | { do: 'class'; field: number }
  | { do: 'toggle'; field: number }
  | { do: 'save-next' }
  | { do: 'accept' }
  | { do: 'skip' }
  | { do: 'prev' }
  | { do: 'next' }
  | { do: 'undo' }
  | { do: 'redo' }
  | { do: 'grid' }
  | { do: 'help' };

/** The action of a key press, or null when the key is not the view's (typing in a field, a browser shortcut…). */
export function keyAction(k: KeyPress, fields: readonly FieldKey[]): KeyAction | null {
  const mod = k.ctrl || k.meta;
  if (mod && !k.alt) {
    const key = k.key.toLowerCase();
    if (key === 'z') return k.shift ? { do: 'redo' } : { do: 'undo' };
    if (key === 'y' && !k.shift) return { do: 'redo' };
    return null;
  }
  if (k.alt || mod) return null;
  switch (k.key) {
    case 'Enter':
      return k.shift ? { do: 'accept' } : { do: 'save-next' };
    case ' ':
      return { do: 'skip' };
    case 'ArrowLeft':
      return { do: 'prev' };
    case 'ArrowRight':
      return { do: 'next' };
    case '?':
      return { do: 'help' };
  }
  // shortcuts are compared as typed: 'a' and 'A' differ only when the schema says so
  const f =
    fields.find((x) => x.shortcut !== null && x.shortcut === k.key) ??
    fields.find(
      (x) =>
        x.shortcut !== null &&
        x.shortcut.toLowerCase() === k.key.toLowerCase() &&
        !fields.some((y) => y.shortcut === k.key),
    );
  if (f?.kind === 'class') return { do: 'class', field: f.id };
  if (f?.kind === 'attribute') return { do: 'toggle', field: f.id };
  if (k.key === 'g' || k.key === 'G') return { do: 'grid' };
  return null;
}

/** How a key is written on screen. */
export function keyName(key: string): string {
  return key === ' ' ? 'Space' : key.length === 1 ? key.toUpperCase() : key;
}

/** True when the key press comes from a control that types text (the view must not take it). */
export function typingTarget(t: EventTarget | null): boolean {
  if (!t || typeof (t as HTMLElement).tagName !== 'string') return false;
  const el = t as HTMLElement;
  const tag = el.tagName.toLowerCase();
  if (tag === 'textarea' || el.isContentEditable) return true;
  if (tag === 'select') return true;
  if (tag !== 'input') return false;
  const type = ((el as HTMLInputElement).type || 'text').toLowerCase();
  return !['checkbox', 'radio', 'button', 'submit', 'range'].includes(type);
}
