import { ref, shallowRef } from 'vue';
import type { Series } from '../../../electron/common/contract.js';
import { api } from '../api.js';
import { CURVES } from '../run-curves.js';

/** A run's curves, smoothed as chosen; reloaded a little after new steps come in (not at every step). */
/** `id` and `kind` are read when the curves load: the view may be given another run. */
export function useRunCurves(id: () => string, kind: () => string | undefined) {
  // replaced whole by each answer, never changed in place: no deep proxies over its points
  const series = shallowRef<Series[]>([]);
  const smoothing = ref(0.6);
  /** The smoothing was moved by hand (a cluster run is otherwise drawn as logged). */
  const smoothingChosen = ref(false);
  let refresh: ReturnType<typeof setTimeout> | null = null;

  async function loadSeries(): Promise<void> {
    const names = CURVES[kind() ?? 'pretrain'] ?? [];
    if (!names.length) return;
    series.value = await api.call('metrics.series', {
      runs: [id()],
      names,
      smoothing: smoothing.value,
      maxPoints: 1500,
    });
  }
  function soon(): void {
    if (refresh) return;
    refresh = setTimeout(async () => {
      refresh = null;
      await loadSeries();
    }, 1200);
  }
  /** No reload pending (the view is left). */
  function stop(): void {
    if (refresh) clearTimeout(refresh);
  }
  return { series, smoothing, smoothingChosen, loadSeries, soon, stop };
}
export type RunCurves = ReturnType<typeof useRunCurves>;
