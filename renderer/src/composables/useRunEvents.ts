import { computed, ref, type Ref } from 'vue';
import type { RunEvent } from 'camd-studio/trainer/protocol';
import type { Run } from '../../../electron/common/contract.js';

/**
 * A run as it happens, from its events: the phase it is in, its newest steps and the time left at
 * their pace, and its log; a step reloads the curves soon, a start, an evaluation, a checkpoint or the
 * end reloads the run.
 */
export function useRunEvents(o: {
  run: Ref<Run | null | undefined>;
  log: Ref<string[]>;
  loadDetail: () => Promise<void>;
  loadSeries: () => Promise<void>;
  soon: () => void;
}) {
  const { run, log, loadDetail, loadSeries, soon } = o;
  const phase = ref<{ phase: string; done: number; total: number } | null>(null);
  /** The newest steps and when they came. */
  const rate = ref<{ step: number; t: number }[]>([]);
  const step = computed(() => Math.max(run.value?.last_step ?? 0, rate.value.at(-1)?.step ?? 0));

  function onEvent(e: RunEvent): void {
    if (e.type === 'progress') phase.value = { phase: e.phase, done: e.done, total: e.total };
    else if (e.type === 'step') {
      phase.value = null;
      rate.value = [...rate.value.slice(-30), { step: e.step, t: performance.now() }];
      soon();
    } else if (e.type === 'start') void loadDetail();
    else if (e.type === 'eval' || e.type === 'checkpoint') void loadDetail();
    else if (e.type === 'done' || e.type === 'error') {
      phase.value = null;
      setTimeout(() => void loadDetail(), 300);
      void loadSeries();
    }
    if (e.type === 'log' || e.type === 'error' || e.type === 'checkpoint' || e.type === 'done') {
      const text =
        e.type === 'log'
          ? `${e.level}: ${e.message}`
          : e.type === 'error'
            ? `error: ${e.message}`
            : e.type === 'checkpoint'
              ? `checkpoint (${e.role}) at step ${e.step}: ${e.path}`
              : `done: ${e.reason}`;
      log.value = [...log.value.slice(-400), `${new Date().toISOString()} ${text}`];
    }
  }

  const etaSeconds = computed(() => {
    const r = rate.value;
    const total = run.value?.total_steps;
    if (r.length < 3 || !total) return null;
    const a = r[0]!;
    const b = r[r.length - 1]!;
    const perStep = (b.t - a.t) / 1000 / Math.max(1, b.step - a.step);
    return perStep * (total - b.step);
  });

  return { phase, rate, step, etaSeconds, onEvent };
}
