/** Datasets and their scan jobs, kept current by the `datasets` and `jobs` subscriptions. */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '../api.js';
import type { Dataset, Job, FaceSettings } from '../../../electron/common/contract.js';

export const useDatasets = defineStore('datasets', () => {
  const list = ref<Dataset[]>([]);
  const jobs = ref<Record<string, Job>>({});
  const loaded = ref(false);
  /** The dataset labels were last made on in this window (where fine-tuning starts from next). */
  const lastLabelled = ref<number | null>(null);
  let started: Promise<void> | null = null;

  function upsert(d: Dataset): void {
    const i = list.value.findIndex((x) => x.id === d.id);
    if (i >= 0) list.value.splice(i, 1, d);
    else list.value.push(d);
  }

  function start(): Promise<void> {
    started ??= (async () => {
      await api.subscribe('datasets', {}, (e) => {
        if (e.deleted) list.value = list.value.filter((d) => d.id !== e.id);
        else if (e.dataset) upsert(e.dataset);
      });
      await api.subscribe('jobs', {}, (j) => (jobs.value = { ...jobs.value, [j.id]: j }));
      list.value = await api.call('datasets.list', {});
      for (const j of await api.call('jobs.list', {})) jobs.value[j.id] = j;
      loaded.value = true;
    })();
    return started;
  }

  /**
   * An answer that started a scan. The topics may have told newer news already — a small folder's
   * scan can end before the answer arrives — so the answer only fills in what is not known yet
   * (else a finished scan would show as running, and a scanned dataset as empty, until a reload).
   */
  function arrived(r: { dataset: Dataset; job: Job }): void {
    if (!list.value.some((d) => d.id === r.dataset.id)) upsert(r.dataset);
    if (!jobs.value[r.job.id]) jobs.value = { ...jobs.value, [r.job.id]: r.job };
  }

  async function add(path: string, faces?: FaceSettings): Promise<{ dataset: Dataset; job: Job }> {
    const r = await api.call('datasets.add', faces ? { path, faces } : { path });
    arrived(r);
    return r;
  }

  /** The sample faces that come with the app: their photos added, their faces found into a dataset of face crops. */
  async function addSample(): Promise<{ dataset: Dataset; job: Job }> {
    const r = await api.call('datasets.addSample', {});
    arrived(r);
    return r;
  }

  async function rescan(id: number): Promise<void> {
    const j = await api.call('datasets.rescan', { id });
    if (!jobs.value[j.id]) jobs.value = { ...jobs.value, [j.id]: j };
  }

  async function remove(id: number): Promise<void> {
    await api.call('datasets.delete', { id });
    list.value = list.value.filter((d) => d.id !== id);
  }

  const running = computed(() => Object.values(jobs.value).filter((j) => j.status === 'running'));

  /** The newest job of a dataset. */
  function jobOf(id: number): Job | undefined {
    return Object.values(jobs.value)
      .filter((j) => j.dataset === id)
      .sort((a, b) => (a.started_at < b.started_at ? 1 : -1))[0];
  }

  return { list, jobs, loaded, lastLabelled, start, add, addSample, rescan, remove, running, jobOf };
});
