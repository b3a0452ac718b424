/** Runs, kept current by the `runs` subscription; the actions of the run buttons. */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '../api.js';
import type { CreateRun, ImportedRun, Run } from '../../../electron/common/contract.js';

export const useRuns = defineStore('runs', () => {
  const list = ref<Run[]>([]);
  const loaded = ref(false);
  let started: Promise<void> | null = null;

  function upsert(r: Run): void {
    const i = list.value.findIndex((x) => x.id === r.id);
    if (i >= 0) list.value.splice(i, 1, r);
    else list.value.unshift(r);
  }

  function start(): Promise<void> {
    started ??= (async () => {
      await api.subscribe('runs', {}, upsert);
      list.value = await api.call('runs.list', {});
      loaded.value = true;
    })();
    return started;
  }

  const byId = computed(() => new Map(list.value.map((r) => [r.id, r])));

  async function create(req: CreateRun): Promise<Run> {
    const r = await api.call('runs.create', req);
    upsert(r);
    return r;
  }

  const act = (op: 'runs.start' | 'runs.pause' | 'runs.resume' | 'runs.stop') => async (id: string) =>
    upsert(await api.call(op, { id }));

  async function remove(id: string, files: boolean): Promise<void> {
    await api.call('runs.delete', { id, files });
    list.value = list.value.filter((r) => r.id !== id);
  }

  /** A run of the released scripts (torchrun), from its output folder. */
  async function importTorchrun(dir: string): Promise<ImportedRun> {
    const r = await api.call('runs.importTorchrun', { dir });
    upsert(r.run);
    return r;
  }

  return {
    list,
    loaded,
    start,
    byId,
    create,
    importTorchrun,
    startRun: act('runs.start'),
    pause: act('runs.pause'),
    resume: act('runs.resume'),
    stop: act('runs.stop'),
    remove,
  };
});
