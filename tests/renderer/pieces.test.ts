// @vitest-environment happy-dom
// The renderer's pure pieces and components, in happy-dom: config diff, number formats,
// the evaluation tables, the run store kept current by its subscription.
import { describe, expect, it, vi } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { configDiff, flatten } from '../../renderer/src/config-diff.js';
import { bytes, duration, settingText, tickLabels } from '../../renderer/src/format.js';
import { adviceFor } from '../../renderer/src/advice.js';
import EvalResults from '../../renderer/src/components/EvalResults.vue';

const listeners = new Map<string, (e: unknown) => void>();
vi.mock('../../renderer/src/api.js', () => ({
  api: {
    call: vi.fn(async (op: string) =>
      op === 'runs.list' ? [{ id: 'a', kind: 'pretrain', name: 'first', status: 'running', last_step: 3 }] : [],
    ),
    subscribe: vi.fn(async (topic: string, _p: unknown, fn: (e: unknown) => void) => {
      listeners.set(topic, fn);
      return () => listeners.delete(topic);
    }),
  },
  connected: { value: true },
  messageOf: (e: unknown) => String(e),
  fieldOf: () => undefined,
  imageSrc: (id: number) => `/api/images/${id}/thumb`,
}));

describe('config diff', () => {
  it('shows only the fields that differ, flattened, with an empty value where a run lacks the field', () => {
    const a = { preset: 'tiny', maskRatio: 0.6, optim: { blr: 1e-4, warmup: 5 }, tags: [1, 2] };
    const b = { preset: 'tiny', maskRatio: 0.4, optim: { blr: 1e-4, warmup: 5 }, tags: [1, 2] };
    const c = { preset: 'tiny', maskRatio: 0.4, optim: { blr: 2e-4, warmup: 5 }, extra: true };
    expect(configDiff([a, b])).toEqual([{ field: 'maskRatio', values: ['0.6', '0.4'] }]);
    expect(configDiff([a, b, c]).map((r) => r.field)).toEqual(['extra', 'maskRatio', 'optim.blr', 'tags']);
    expect(configDiff([a, b, c]).find((r) => r.field === 'extra')!.values).toEqual(['', '', 'true']);
    expect(configDiff([a, a])).toEqual([]);
    expect(flatten({ x: { y: { z: 1 } } })).toEqual({ 'x.y.z': '1' });
  });
});

describe('formats', () => {
  it('sizes, durations, and axis labels that are never repeated', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.5 KB');
    expect(bytes(5 * 2 ** 30)).toBe('5.0 GB');
    expect(duration(0.25)).toBe('250 ms');
    expect(duration(95)).toBe('1 min 35 s');
    expect(duration(3 * 3600 + 120)).toBe('3 h 2 min');
    expect(tickLabels([1.0991, 1.0993, 1.0995])).toEqual(['1.0991', '1.0993', '1.0995']);
    expect(tickLabels([0.0002, 0.0004])).toEqual(['2e-4', '4e-4']);
    expect(tickLabels([0, 10, 20])).toEqual(['0', '10', '20']);
    // true to the value, not only distinct: 15 is not "20" (one digit would make 2e+1 of it)
    expect(tickLabels([5, 10, 15])).toEqual(['5', '10', '15']);
    expect(tickLabels([0.95, 1, 1.05])).toEqual(['0.95', '1', '1.05']);
    expect(tickLabels([7.78e-4, 7.8e-4, 7.82e-4])).toEqual(['7.78e-4', '7.80e-4', '7.82e-4']);
    // a run's settings as the runs list writes them
    expect(settingText('maskRatio', 118 / 196)).toBe('0.602');
    expect(settingText('blr', 3.125e-5)).toBe('0.00003125');
    expect(settingText('batch', 16)).toBe('16');
    expect(
      settingText('init', '/data/runs/abc/encoder.safetensors', (p) =>
        p.startsWith('/data/runs/abc/') ? 'run "ratio 0.60"' : null,
      ),
    ).toBe('run "ratio 0.60"');
    expect(settingText('init', '/elsewhere/camd-b.safetensors', () => null)).toBe('camd-b.safetensors');
  });

  it('failures come with what to do', () => {
    expect(adviceFor('the trainer process was killed (SIGKILL): most often the system ran out of memory')).toMatch(
      /lower the batch/,
    );
    expect(adviceFor('the loss became NaN at step 3')).toMatch(/lower learning rate/);
    expect(adviceFor('disk full while writing x')).toMatch(/free some space/);
    expect(adviceFor(null)).toBeNull();
  });
});

describe('EvalResults', () => {
  const ev = (epoch: number, split: string, value: number, selected = false, detail: unknown = null) => ({
    id: epoch * 10 + (split === 'val' ? 1 : 2),
    run_id: 'r',
    dataset_id: 1,
    epoch,
    split,
    metric: 'top1',
    value,
    selected,
    detail,
  });
  it('epochs with the selected one marked, and the confusion matrix of the selected epoch as a table', () => {
    const detail = {
      metric: 'top1',
      per_class: { frown: 0.5, smile: 1 },
      confusion: [
        [1, 1],
        [0, 2],
      ],
      n: 4,
    };
    const w = mount(EvalResults, {
      props: {
        evaluations: [
          ev(1, 'val', 0.5),
          ev(1, 'test', 0.5),
          ev(2, 'val', 0.75, true),
          ev(2, 'test', 0.75, true, detail),
        ],
      },
    });
    const rows = w.findAll('tbody tr');
    expect(rows[0]!.text()).toContain('50.0 %');
    expect(rows[1]!.text()).toContain('selected by validation');
    const matrix = w.find('[data-testid="confusion"]');
    expect(matrix.findAll('thead th').map((t) => t.text())).toEqual([
      'true \\ predicted',
      'frown',
      'smile',
      'accuracy',
    ]);
    expect(
      matrix
        .findAll('tbody tr')[1]!
        .findAll('td')
        .map((t) => t.text()),
    ).toEqual(['0', '2', '100.0 %']);
    expect(matrix.find('caption').text()).toContain('4 images');
  });
  it('says when there is nothing yet', () => {
    expect(mount(EvalResults, { props: { evaluations: [] } }).text()).toContain(
      'The first evaluation comes at the end of the first epoch',
    );
  });
});

describe('the runs store', () => {
  it('loads the list and keeps it current from the runs subscription', async () => {
    setActivePinia(createPinia());
    const { useRuns } = await import('../../renderer/src/stores/runs.js');
    const runs = useRuns();
    await runs.start();
    expect(runs.list.map((r) => r.status)).toEqual(['running']);
    listeners.get('runs')!({ id: 'a', kind: 'pretrain', name: 'first', status: 'paused', last_step: 9 });
    listeners.get('runs')!({ id: 'b', kind: 'finetune', name: null, status: 'queued', last_step: 0 });
    expect(runs.list.map((r) => [r.id, r.status])).toEqual([
      ['b', 'queued'],
      ['a', 'paused'],
    ]);
    expect(runs.byId.get('a')!.last_step).toBe(9);
  });
});
