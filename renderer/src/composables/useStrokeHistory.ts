/**
 * The brush's undo and redo: one stroke (pointer down to up) is one step, kept as the pixels it
 * changed with their classes before and after — not copies of the map, which for a large photo
 * would be megabytes a step. The last STEPS strokes can be undone.
 */
import { computed, shallowRef } from 'vue';
import type { Changed, LabelMap } from '../label-map.js';

const STEPS = 200;

interface Step {
  index: Int32Array;
  before: Uint8Array;
  after: Uint8Array;
}

export type Box = { x0: number; y0: number; x1: number; y1: number };

/** The box round a step's pixels, for redrawing only there. */
function boxOf(s: Step, width: number): Box {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  for (const i of s.index) {
    const x = i % width;
    const y = (i - x) / width;
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  return { x0, y0, x1, y1 };
}

export function useStrokeHistory() {
  const done = shallowRef<Step[]>([]);
  const undone = shallowRef<Step[]>([]);

  /** Records a finished stroke (the pixels it changed, with their earlier classes) as one step. */
  function record(m: LabelMap, changed: Changed): void {
    if (changed.size === 0) return;
    const index = Int32Array.from(changed.keys());
    const before = Uint8Array.from(changed.values());
    const after = Uint8Array.from(index, (i) => m.data[i]!);
    done.value = [...done.value.slice(-(STEPS - 1)), { index, before, after }];
    undone.value = [];
  }

  function apply(m: LabelMap, s: Step, which: 'before' | 'after'): Box {
    const v = s[which];
    s.index.forEach((i, k) => {
      m.data[i] = v[k]!;
    });
    return boxOf(s, m.width);
  }

  /** Puts the last stroke's pixels back; returns where the map changed, or null when there is nothing to undo. */
  function undo(m: LabelMap): Box | null {
    const s = done.value.at(-1);
    if (!s) return null;
    done.value = done.value.slice(0, -1);
    undone.value = [...undone.value, s];
    return apply(m, s, 'before');
  }

  function redo(m: LabelMap): Box | null {
    const s = undone.value.at(-1);
    if (!s) return null;
    undone.value = undone.value.slice(0, -1);
    done.value = [...done.value, s];
    return apply(m, s, 'after');
  }

  function clear(): void {
    done.value = [];
    undone.value = [];
  }

  return {
    undo,
    redo,
    record,
    clear,
    canUndo: computed(() => done.value.length > 0),
    canRedo: computed(() => undone.value.length > 0),
    /** Strokes since the start (or the last clear), undone ones not counted. */
    strokes: computed(() => done.value.length),
  };
}
