import { computed, ref } from 'vue';
import { isUnfinished } from 'camd-studio/trainer/protocol';
import type { OpResult, RunDetail } from '../../../electron/common/contract.js';
import { api, messageOf } from '../api.js';
import { adviceFor } from '../advice.js';
import { provenanceOf } from '../run-provenance.js';
import { useDatasets } from '../stores/datasets.js';
import { useRuns } from '../stores/runs.js';
import type { RunCurves } from './useRunCurves.js';

/**
 * One run as the store has it: its record (kept current by the runs list), its log, checkpoints and
 * evaluations, and what they say — where it came from, what it ran on, what to do when it failed.
 */
export function useRunDetail(id: () => string, curves: Pick<RunCurves, 'smoothing' | 'smoothingChosen'>) {
  const runs = useRuns();
  const datasets = useDatasets();
  const detail = ref<RunDetail | null>(null);
  const error = ref<string | null>(null);
  const log = ref<string[]>([]);
  const evaluations = ref<OpResult<'evaluations.list'>>([]);
  const checkpoints = ref<OpResult<'checkpoints.list'>>([]);

  async function loadDetail(): Promise<void> {
    try {
      detail.value = await api.call('runs.get', { id: id() });
      // one point an epoch: drawn as logged, unless the smoothing was chosen
      if (detail.value.config['source'] === 'torchrun' && !curves.smoothingChosen.value) curves.smoothing.value = 0;
      log.value = detail.value.log_tail;
      checkpoints.value = await api.call('checkpoints.list', { run: id() });
      if (detail.value.kind !== 'pretrain') evaluations.value = await api.call('evaluations.list', { run: id() });
      error.value = null;
    } catch (e) {
      error.value = messageOf(e);
    }
  }

  const run = computed(() => runs.byId.get(id()) ?? detail.value);
  const dataset = computed(() => datasets.list.find((d) => d.id === run.value?.dataset_id) ?? null);
  const isPretrain = computed(() => run.value?.kind === 'pretrain');
  const active = computed(() => isUnfinished(run.value?.status ?? ''));
  const backendDetail = computed(() => {
    const d = detail.value?.backend_detail as
      | { package?: string; details?: Record<string, unknown> }
      | null
      | undefined;
    if (!d) return null;
    const adapter = d.details?.['adapter'] as { description?: string; vendor?: string } | undefined;
    const threads = d.details?.['threads'];
    return [
      d.package,
      adapter ? `GPU: ${adapter.description || adapter.vendor}` : null,
      threads !== undefined ? `${String(threads)} thread(s)` : null,
    ]
      .filter(Boolean)
      .join(' · ');
  });
  const advice = computed(() =>
    run.value?.status === 'failed' || run.value?.status === 'interrupted'
      ? adviceFor(`${run.value.error ?? ''} ${detail.value?.exit ?? ''}`)
      : null,
  );
  const encoder = computed(() => checkpoints.value.find((c) => c.kind === 'encoder' && c.exists) ?? null);
  const provenance = computed(() => provenanceOf(detail.value));
  /** What a step is: an epoch for a cluster run (the released scripts log once an epoch). */
  const xLabel = computed(() => (provenance.value?.kind === 'torchrun' ? 'epoch' : 'step'));

  return {
    detail,
    error,
    log,
    evaluations,
    checkpoints,
    loadDetail,
    run,
    dataset,
    isPretrain,
    active,
    backendDetail,
    advice,
    encoder,
    provenance,
    xLabel,
  };
}
export type RunDetailState = ReturnType<typeof useRunDetail>;
