/**
 * Ready-made label schemas and keyboard shortcuts (no Node import: the app's forms use them).
 * Templates: the 40 CelebA attributes (LFWA uses the same 40), the 7 RAF-DB and the 8 FERPlus
 * expressions. Shortcuts: classes take 1–9 then 0 then letters; attributes take letters, then
 * digits, then punctuation. Keys the labelling view keeps for itself are never given out.
 */
import { CELEBA_ATTRIBUTES, FERPLUS_CLASSES, RAFDB_CLASSES } from '../protocol/label-names.js';

export type SchemaTask = 'far' | 'fer';
export type FieldKind = 'attribute' | 'class' | 'number' | 'point';

export interface Template {
  id: string;
  task: SchemaTask;
  /** The schema's name when made from the template. */
  name: string;
  names: readonly string[];
  description: string;
}

export const TEMPLATES: readonly Template[] = [
  {
    id: 'celeba40',
    task: 'far',
    name: 'CelebA attributes',
    names: CELEBA_ATTRIBUTES,
    description: 'the 40 binary attributes of CelebA (and LFWA)',
  },
  {
    id: 'rafdb7',
    task: 'fer',
    name: 'RAF-DB expressions',
    names: RAFDB_CLASSES,
    description: 'the 7 basic expressions of RAF-DB',
  },
  {
    id: 'ferplus8',
    task: 'fer',
    name: 'FERPlus expressions',
    names: FERPLUS_CLASSES,
    description: 'the 8 expressions of FERPlus',
  },
];
export const TEMPLATE_IDS = ['celeba40', 'rafdb7', 'ferplus8'] as const;

export function templateOf(id: string): Template | undefined {
  return TEMPLATES.find((t) => t.id === id);
}

/** The template whose names these are, in this order (an imported file of a known layout). */
export function templateFor(task: SchemaTask, names: readonly string[]): Template | undefined {
  return TEMPLATES.find(
    (t) => t.task === task && t.names.length === names.length && t.names.every((n, i) => n === names[i]),
  );
}

/** Keys of the labelling view itself: never a field's shortcut. */
export const RESERVED_KEYS: readonly string[] = [
  ' ',
  'Enter',
  'Tab',
  'Escape',
  'Backspace',
  'Delete',
  'ArrowLeft',
  'ArrowRight',
  'ArrowUp',
  'ArrowDown',
  '?',
];

const CLASS_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', ...'abcdefghijklmnopqrstuvwxyz'];
const ATTRIBUTE_KEYS = [
  ...'abcdefghijklmnopqrstuvwxyz',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
  '0',
  '-',
  '=',
  '[',
  ']',
  ';',
  "'",
  ',',
  '.',
  '/',
  '\\',
];

/** Shortcuts for n fields of a kind, skipping keys already taken; null where the keys run out. */
export function defaultShortcuts(kind: FieldKind, n: number, taken: readonly string[] = []): (string | null)[] {
  const pool = (kind === 'class' ? CLASS_KEYS : ATTRIBUTE_KEYS).filter(
    (k) => !taken.includes(k) && !RESERVED_KEYS.includes(k),
  );
  return Array.from({ length: n }, (_, i) => (kind === 'class' || kind === 'attribute' ? (pool[i] ?? null) : null));
}

/** A key a user may give a field: one printable character, not one of the view's own. */
export function shortcutProblem(key: string): string | null {
  if ([...key].length !== 1) return 'a shortcut is one key (one character)';
  if (RESERVED_KEYS.includes(key))
    return `'${key === ' ' ? 'Space' : key}' is kept for the labelling view (next, skip, undo…)`;
  if (/\s/.test(key)) return 'a shortcut cannot be a space';
  return null;
}
