import { computed, ref } from 'vue';

export type Pt = [number, number];

/**
 * The points being edited, with their undo and redo: every change (one drag, one nudge) is one
 * step. `reset` starts a new image's history.
 */
export function usePointEdits(bounds: () => { width: number; height: number }) {
  const points = ref<Pt[]>([]);
  const past: Pt[][] = [];
  const future: Pt[][] = [];
  const depth = ref({ undo: 0, redo: 0 });
  const copy = (p: Pt[]) => p.map(([x, y]): Pt => [x, y]);
  const sync = () => (depth.value = { undo: past.length, redo: future.length });
  const clamp = ([x, y]: Pt): Pt => {
    const b = bounds();
    return [Math.min(b.width, Math.max(0, x)), Math.min(b.height, Math.max(0, y))];
  };

  function reset(p: Pt[]): void {
    points.value = copy(p);
    past.length = 0;
    future.length = 0;
    sync();
  }
  /** Marks the start of one step (before a drag's first move, or a nudge). */
  function begin(): void {
    past.push(copy(points.value));
    future.length = 0;
    sync();
  }
  /** Moves point i (within the image), as part of the step begun. */
  function place(i: number, p: Pt): void {
    const next = copy(points.value);
    next[i] = clamp(p);
    points.value = next;
  }
  /** One step: point i moved by dx, dy. */
  function nudge(i: number, dx: number, dy: number): void {
    const p = points.value[i];
    if (!p) return;
    begin();
    place(i, [p[0] + dx, p[1] + dy]);
  }
  function undo(): boolean {
    const prev = past.pop();
    if (!prev) return false;
    future.push(copy(points.value));
    points.value = prev;
    sync();
    return true;
  }
  function redo(): boolean {
    const next = future.pop();
    if (!next) return false;
    past.push(copy(points.value));
    points.value = next;
    sync();
    return true;
  }
  const changed = computed(() => depth.value.undo > 0);
  return { points, reset, begin, place, nudge, undo, redo, depth, changed };
}
