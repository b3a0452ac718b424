// The landmark editor's keys (useLandmarkKeyboard.ts) and its undo history (usePointEdits.ts): one
// drag is one step however many moves it takes, each nudge is one, a new change drops the redo.
import { describe, expect, it } from 'vitest';
import { landmarkKey } from '../../renderer/src/composables/useLandmarkKeyboard.js';
import { usePointEdits } from '../../renderer/src/composables/usePointEdits.js';
import { regionOf } from '../../renderer/src/landmark-regions.js';

const k = (key: string, o: Partial<{ ctrl: boolean; meta: boolean; shift: boolean; alt: boolean }> = {}) =>
  landmarkKey({ key, ctrl: false, meta: false, shift: false, alt: false, ...o });

describe('the landmark editor', () => {
  it('maps the keys: points, nudges (Shift: 10 px), undo and redo, save, images', () => {
    expect([k('Tab'), k('Tab', { shift: true }), k(']'), k('[')]).toEqual([
      { do: 'select', step: 1 },
      { do: 'select', step: -1 },
      { do: 'select', step: 1 },
      { do: 'select', step: -1 },
    ]);
    expect(k('ArrowLeft')).toEqual({ do: 'nudge', dx: -1, dy: 0 });
    expect(k('ArrowDown', { shift: true })).toEqual({ do: 'nudge', dx: 0, dy: 10 });
    expect(k('z', { ctrl: true })).toEqual({ do: 'undo' });
    expect(k('Z', { ctrl: true, shift: true })).toEqual({ do: 'redo' });
    expect(k('y', { meta: true })).toEqual({ do: 'redo' });
    expect(k('Enter')).toEqual({ do: 'save-next' });
    expect([k('PageDown'), k('PageUp')]).toEqual([
      { do: 'image', step: 1 },
      { do: 'image', step: -1 },
    ]);
    expect([k('a'), k('ArrowLeft', { alt: true }), k('s', { ctrl: true })]).toEqual([null, null, null]);
  });

  it('undoes a whole drag in one step and each nudge in one; keeps points inside the image; a change drops the redo', () => {
    const e = usePointEdits(() => ({ width: 100, height: 80 }));
    e.reset([
      [10, 10],
      [20, 20],
    ]);
    e.begin();
    for (const x of [12, 15, 19]) e.place(0, [x, 11]);
    e.nudge(0, 10, 0);
    e.nudge(1, 0, 500);
    expect(e.points.value).toEqual([
      [29, 11],
      [20, 80],
    ]);
    expect(e.undo()).toBe(true);
    expect(e.undo()).toBe(true);
    expect(e.points.value[0]).toEqual([19, 11]);
    expect(e.undo()).toBe(true);
    expect(e.points.value[0]).toEqual([10, 10]);
    expect(e.undo()).toBe(false);
    expect(e.redo()).toBe(true);
    expect(e.points.value[0]).toEqual([19, 11]);
    e.nudge(1, -1, 0);
    expect(e.redo()).toBe(false);
    expect(e.depth.value).toEqual({ undo: 2, redo: 0 });
  });

  it('names each point’s region', () => {
    expect([regionOf('300w-68', 30), regionOf('wflw-98', 97), regionOf('aflw-19', 18)]).toEqual([
      'nose bridge',
      'pupil (image right)',
      'chin',
    ]);
  });
});
