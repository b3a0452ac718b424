// The labelling view's keyboard: a key press and the schema's shortcuts give one action.
import { describe, expect, it } from 'vitest';
import { keyAction, keyName, typingTarget, type FieldKey, type KeyPress } from '../../renderer/src/label-keys.js';
import { defaultShortcuts, RESERVED_KEYS } from '../../trainer/src/labels/templates.js';

const press = (key: string, m: Partial<KeyPress> = {}): KeyPress => ({
  key,
  ctrl: false,
  meta: false,
  shift: false,
  alt: false,
  ...m,
});
const classes: FieldKey[] = defaultShortcuts('class', 7).map((k, i) => ({ id: 10 + i, kind: 'class', shortcut: k }));
const attrs: FieldKey[] = defaultShortcuts('attribute', 40).map((k, i) => ({
  id: 100 + i,
  kind: 'attribute',
  shortcut: k,
}));

describe('label keys', () => {
  it('a class key sets that class; an attribute key toggles that attribute', () => {
    expect(keyAction(press('1'), classes)).toEqual({ do: 'class', field: 10 });
    expect(keyAction(press('7'), classes)).toEqual({ do: 'class', field: 16 });
    expect(keyAction(press('8'), classes)).toBeNull();
    expect(keyAction(press('a'), attrs)).toEqual({ do: 'toggle', field: 100 });
    expect(keyAction(press('A', { shift: true }), attrs)).toEqual({ do: 'toggle', field: 100 });
    expect(keyAction(press('0'), attrs)).toEqual({ do: 'toggle', field: 135 });
  });

  it("the view's own keys: Enter, Shift+Enter, Space, arrows, undo and redo with Ctrl or Cmd", () => {
    expect(keyAction(press('Enter'), classes)).toEqual({ do: 'save-next' });
    expect(keyAction(press('Enter', { shift: true }), classes)).toEqual({ do: 'accept' });
    expect(keyAction(press(' '), classes)).toEqual({ do: 'skip' });
    expect(keyAction(press('ArrowLeft'), classes)).toEqual({ do: 'prev' });
    expect(keyAction(press('ArrowRight'), classes)).toEqual({ do: 'next' });
    expect(keyAction(press('z', { ctrl: true }), classes)).toEqual({ do: 'undo' });
    expect(keyAction(press('Z', { ctrl: true, shift: true }), classes)).toEqual({ do: 'redo' });
    expect(keyAction(press('z', { meta: true, shift: true }), classes)).toEqual({ do: 'redo' });
    expect(keyAction(press('y', { ctrl: true }), classes)).toEqual({ do: 'redo' });
    // browser and system shortcuts are left alone
    expect(keyAction(press('r', { ctrl: true }), attrs)).toBeNull();
    expect(keyAction(press('a', { alt: true }), attrs)).toBeNull();
  });

  it('g switches to the grid only where no field uses it; no field ever gets a reserved key', () => {
    expect(keyAction(press('g'), classes)).toEqual({ do: 'grid' });
    expect(keyAction(press('g'), attrs)).toEqual({ do: 'toggle', field: 106 });
    for (const f of [...classes, ...attrs]) expect(RESERVED_KEYS).not.toContain(f.shortcut);
  });

  it('keys typed into a text field are not the view’s', () => {
    const input = { tagName: 'INPUT', type: 'text' } as unknown as HTMLInputElement;
    const box = { tagName: 'INPUT', type: 'checkbox' } as unknown as HTMLInputElement;
    expect(typingTarget(input)).toBe(true);
    expect(typingTarget({ tagName: 'TEXTAREA' } as unknown as HTMLElement)).toBe(true);
    expect(typingTarget({ tagName: 'SELECT' } as unknown as HTMLElement)).toBe(true);
    expect(typingTarget(box)).toBe(false);
    expect(typingTarget({ tagName: 'BUTTON' } as unknown as HTMLElement)).toBe(false);
    expect(keyName(' ')).toBe('Space');
    expect(keyName('a')).toBe('A');
  });
});
