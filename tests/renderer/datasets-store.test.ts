// The datasets store when a small folder's scan ends before the answer that started it arrives
// (the topics tell first): the store keeps the newer news — the scanned dataset and the finished
// job — instead of showing "Indexing 0 / …" and 0 images until a reload.
import { describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';

const listeners: Record<string, (e: unknown) => void> = {};
const dataset = (image_count: number, scanned_at: string | null) => ({
  id: 4,
  name: 'faces',
  root: '/f',
  created_at: 't0',
  scanned_at,
  image_count,
  bad_count: 0,
  labelled_count: 0,
  source_dataset_id: null,
});
const job = (status: string) => ({
  id: 'j1',
  kind: 'scan',
  dataset: 4,
  status,
  phase: 'scanning',
  done: status === 'done' ? 3 : 0,
  total: 3,
  started_at: 't0',
  message: null,
  result: null,
});
vi.mock('../../renderer/src/api.js', () => ({
  api: {
    call: vi.fn(async (op: string) => {
      if (op === 'datasets.list' || op === 'jobs.list') return [];
      if (op === 'datasets.add') {
        // the scan ends and both topics tell it before the answer is read
        listeners['jobs']!(job('done'));
        listeners['datasets']!({ id: 4, deleted: false, dataset: dataset(3, 't1') });
        return { dataset: dataset(0, null), job: job('running') };
      }
      throw new Error(op);
    }),
    subscribe: vi.fn(async (topic: string, _p: unknown, on: (e: unknown) => void) => {
      listeners[topic] = on;
      return () => undefined;
    }),
  },
}));

describe('the datasets store', () => {
  it("an answer older than the topics' news does not undo them", async () => {
    setActivePinia(createPinia());
    const { useDatasets } = await import('../../renderer/src/stores/datasets.js');
    const ds = useDatasets();
    await ds.start();
    await ds.add('/f');
    expect(ds.list.map((d) => [d.id, d.image_count, d.scanned_at])).toEqual([[4, 3, 't1']]);
    expect(ds.jobOf(4)?.status).toBe('done');
  });
});
