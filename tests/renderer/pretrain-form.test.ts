// @vitest-environment happy-dom
// The pre-training form: the trainer's own checks before anything is sent, the warm-up note, and
// the request it sends.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia } from 'pinia';
import { createMemoryHistory, createRouter } from 'vue-router';

const calls: { op: string; params: unknown }[] = [];
vi.mock('../../renderer/src/api.js', () => ({
  api: {
    call: vi.fn(async (op: string, params: unknown) => {
      calls.push({ op, params });
      if (op === 'datasets.list')
        return [
          {
            id: 7,
            name: 'faces',
            root: '/f',
            created_at: '',
            scanned_at: '',
            image_count: 40,
            bad_count: 0,
            labelled_count: 0,
            source_dataset_id: null,
          },
          {
            id: 8,
            name: 'expressions',
            root: '/e',
            created_at: '',
            scanned_at: '',
            image_count: 60,
            bad_count: 0,
            labelled_count: 48,
            source_dataset_id: null,
          },
        ];
      if (op === 'jobs.list') return [];
      if (op === 'datasets.images') return { total: 0, items: [] };
      if (op === 'system.info')
        return {
          version: '0',
          node: 'v20',
          platform: 'linux',
          dataDir: '/d',
          store: '/d/camd.db',
          backends: { wasm: { loaded: true, selectedByAuto: true }, cpu: { loaded: true } },
        };
      if (op === 'labels.schemas')
        return [
          {
            id: 3,
            dataset_id: 8,
            name: 'expressions',
            task: 'fer',
            template: null,
            split_seed: null,
            created_at: '',
            fields: [],
          },
        ];
      if (op === 'runs.create') return { id: 'new-run', kind: 'pretrain', name: null, status: 'queued', last_step: 0 };
      // three measured steps: half a second each at this batch
      if (op === 'runs.estimate') {
        const b = (params as { settings: { batch?: number } }).settings.batch ?? 16;
        return {
          backend: 'wasm',
          batch: b,
          stepSeconds: b / 32,
          imagesPerSecond: 32,
          stepsPerEpoch: Math.floor(40 / b),
          epochSeconds: (Math.floor(40 / b) * b) / 32,
          totalSteps: Math.floor(40 / b),
          totalSeconds: (Math.floor(40 / b) * b) / 32,
          measuredSteps: 3,
        };
      }
      return [];
    }),
    subscribe: vi.fn(async () => () => undefined),
  },
  connected: { value: true },
  messageOf: (e: unknown) => String(e),
  fieldOf: () => undefined,
  imageSrc: () => '',
}));

async function form() {
  const { default: PretrainView } = await import('../../renderer/src/views/PretrainView.vue');
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/pretrain', component: PretrainView },
      { path: '/runs/:id', component: { template: '<p>run</p>' } },
      { path: '/:p(.*)', component: { template: '<p />' } },
    ],
  });
  await router.push('/pretrain?dataset=7');
  const w = mount(PretrainView, { global: { plugins: [createPinia(), router] } });
  await flushPromises();
  return { w, router };
}

describe('the pre-training form', () => {
  // every test opens the form as a first visit would (the form keeps what it was left with: tested below)
  beforeEach(() => localStorage.clear());

  it('starts from what was left in it (the e2e test follows "Again with these settings")', async () => {
    const first = await form();
    await first.w.find('#p-name').setValue('kept');
    await first.w.find('#p-preset').setValue('micro');
    await first.w.find('#p-length').setValue('steps');
    await first.w.find('#p-steps').setValue('321');
    await first.w.find('#p-ratio').setValue('0.45');
    first.w.unmount();
    const again = await form();
    expect([
      (again.w.find('#p-name').element as HTMLInputElement).value,
      (again.w.find('#p-preset').element as HTMLSelectElement).value,
      (again.w.find('#p-steps').element as HTMLInputElement).value,
      again.w.find('label[for="p-ratio"]').text(),
    ]).toEqual(['kept', 'micro', '321', 'Masking ratio: 0.45']);
    // something stored that is not the form's (another version, a hand edit): the defaults, no error
    again.w.unmount();
    localStorage.setItem('camd.pretrain.form', JSON.stringify({ preset: 42, steps: 'many', name: ['x'] }));
    const odd = await form();
    expect([
      (odd.w.find('#p-name').element as HTMLInputElement).value,
      (odd.w.find('#p-preset').element as HTMLSelectElement).value,
    ]).toEqual(['', 'tiny']);
    odd.w.unmount();
  });

  it("the recipes: the desktop one is the defaults; the paper's is one click away", async () => {
    const { w } = await form();
    const { RECIPES } = await import('../../trainer/src/protocol/defaults.js');
    expect(w.find('[data-testid="recipe-desktop"]').attributes('aria-pressed')).toBe('true');
    expect((w.find('#p-blr').element as HTMLInputElement).value).toBe(String(RECIPES.desktop.blr));
    await w.find('[data-testid="recipe-paper"]').trigger('click');
    expect([
      (w.find('#p-blr').element as HTMLInputElement).value,
      (w.find('#p-epochs').element as HTMLInputElement).value,
      w.find('[data-testid="recipe-paper"]').attributes('aria-pressed'),
    ]).toEqual(['0.00003125', '400', 'true']);
    expect(w.find('#p-blr-hint').text()).toBe('lr = blr × batch / 256 = 1.95e-6');
    await w.find('#p-blr').setValue('0.001');
    expect(w.find('[data-testid="recipe-note"]').text()).toBe('your own settings');
    w.unmount();
  });
  it('refuses what the trainer would refuse, in its words, with the start button disabled', async () => {
    const { w } = await form();
    const start = () => w.find('button[type="submit"]');
    expect(start().attributes('disabled')).toBeUndefined();
    await w.find('#p-batch').setValue('0');
    expect(w.text()).toContain('--batch must be an integer of at least 1 (images per step), got 0');
    expect(w.find('#p-batch').attributes('aria-invalid')).toBe('true');
    expect(start().attributes('disabled')).toBeDefined();
    await w.find('#p-batch').setValue('64');
    expect(w.text()).toContain('the dataset has 40 readable image(s), fewer than the batch');
    await w.find('#p-batch').setValue('8');
    await w.find('#p-img').setValue('50');
    expect(w.text()).toContain('must be a multiple of the patch size 16');
    await w.find('#p-img').setValue('');
    expect(start().attributes('disabled')).toBeUndefined();
    // 40 images at batch 8 = 5 steps an epoch; a 4-epoch run with the default 5-epoch warm-up
    await w.find('#p-epochs').setValue('4');
    expect(w.text()).toContain('The warm-up (5 epochs = 25 steps) covers most of this 20-step run');
  });

  it('on the wasm backend (auto picks it here): the memory a step needs, and ViT-B refused before anything is sent', async () => {
    const { w } = await form();
    await flushPromises();
    expect(w.find('[data-testid="wasm-memory"]').text()).toBe(
      'memory on wasm: about 0.8 GB of 4.2 GB (batch 97 at most)',
    );
    await w.find('#p-preset').setValue('base');
    // ViT-B/224 at batch 16 fits only with its activations recomputed: said, and allowed
    await w.find('#p-batch').setValue('16');
    expect(w.find('[data-testid="wasm-memory"]').text()).toBe(
      'memory on wasm: about 4.1 GB of 4.2 GB, activations recomputed to fit (a step takes about a fifth longer) (batch 16 at most)',
    );
    expect(w.find('button[type="submit"]').attributes('disabled')).toBeUndefined();
    await w.find('#p-batch').setValue('32');
    expect(w.text()).toContain(
      'base/224 at batch 32 needs about 7.1 GB of wasm memory even with activations recomputed',
    );
    expect(w.find('button[type="submit"]').attributes('disabled')).toBeDefined();
    // on a GPU backend the wasm heap does not matter
    await w.find('#p-backend').setValue('cpu');
    expect(w.text()).not.toContain('wasm memory');
    expect(w.find('button[type="submit"]').attributes('disabled')).toBeUndefined();
  });

  it('sends the settings as the trainer names them, then opens the run', async () => {
    const { w, router } = await form();
    await w.find('#p-name').setValue('my run');
    await w.find('#p-preset').setValue('micro');
    await w.find('#p-batch').setValue('4');
    await w.find('#p-ratio').setValue('0.4');
    await w.find('form').trigger('submit');
    await flushPromises();
    const create = calls.find((c) => c.op === 'runs.create')!;
    expect(create.params).toMatchObject({
      kind: 'pretrain',
      dataset: 7,
      name: 'my run',
      settings: { preset: 'micro', batch: 4, maskRatio: 0.4, epochs: 100, backend: 'auto' },
    });
    expect(router.currentRoute.value.path).toBe('/runs/new-run');
  });

  it('the duration of the schedule is measured without asking, follows the length, and a time budget becomes steps', async () => {
    const settle = async () => {
      await new Promise((r) => setTimeout(r, 700));
      await flushPromises();
    };
    await settle(); // the forms of the tests before have measured by now
    calls.length = 0;
    const { w } = await form();
    await settle();
    // 40 images, batch 16: 2 steps an epoch, 0.5 s a step; 100 epochs = 200 steps = 100 s
    const measures = () => calls.filter((c) => c.op === 'runs.estimate');
    expect(measures().length).toBe(1);
    expect((measures()[0]!.params as { settings: Record<string, unknown> }).settings).toMatchObject({
      preset: 'tiny',
      batch: 16,
      epochs: 1,
    });
    expect(w.find('[data-testid="duration"]').text()).toBe(
      'About 1 min 40 s for 200 steps (100 epoch(s) of 2 steps) — measured on wasm: 500 ms a step, 32.0 images/s.',
    );
    // the length alone does not measure again
    await w.find('#p-epochs').setValue('10');
    await settle();
    expect(measures().length).toBe(1);
    expect(w.find('[data-testid="duration"]').text()).toMatch(/^About 10 s for 20 steps \(10 epoch\(s\) of 2 steps\)/);
    // the batch changes the speed: measured again (batch 8: 5 steps an epoch, 0.25 s a step)
    await w.find('#p-batch').setValue('8');
    await settle();
    expect(measures().length).toBe(2);
    expect(w.find('[data-testid="duration"]').text()).toMatch(/^About 13 s for 50 steps/);
    // a time budget of 2 minutes: 480 steps at 0.25 s, sent as steps
    await w.find('#p-length').setValue('minutes');
    await w.find('#p-minutes').setValue('2');
    expect(w.find('#p-minutes-hint').text()).toBe('480 steps at the measured speed');
    expect(w.find('[data-testid="duration"]').text()).toMatch(
      /^About 2 min 0 s for 480 steps \(96 epoch\(s\) of 5 steps\)/,
    );
    await w.find('form').trigger('submit');
    await flushPromises();
    const create = calls.filter((c) => c.op === 'runs.create').at(-1)!;
    expect((create.params as { settings: Record<string, unknown> }).settings).toMatchObject({ batch: 8, steps: 480 });
    expect((create.params as { settings: Record<string, unknown> }).settings['epochs']).toBeUndefined();
  });

  it('a probe set: only datasets with labels are offered; the run gets the probe monitor on their labels', async () => {
    const { w } = await form();
    const options = w.findAll('#p-probe option').map((o) => o.text());
    expect(options).toEqual(['none', 'expressions (48 labelled)']);
    expect(w.find('#p-probe-every').exists()).toBe(false);
    await w.find('#p-probe').setValue('8');
    await flushPromises();
    expect(w.findAll('#p-probe-schema option').map((o) => o.text())).toEqual(['expressions (one class a face)']);
    await w.find('#p-probe-every').setValue('5');
    await w.find('#p-preset').setValue('micro');
    await w.find('#p-batch').setValue('4');
    await w.find('form').trigger('submit');
    await flushPromises();
    const create = calls.filter((c) => c.op === 'runs.create').at(-1)!;
    expect((create.params as { settings: unknown }).settings).toMatchObject({
      probeData: '/e',
      probeFormat: 'store',
      probeSchema: '3',
      probeEvery: 5,
    });
  });
});

describe("the form's fields as the trainer declares them (protocol/pretrain-fields.ts)", () => {
  beforeEach(() => localStorage.clear());
  /** The control of each field the form labels. */
  const CONTROL: Record<string, string> = {
    data: 'p-dataset',
    preset: 'p-preset',
    imgSize: 'p-img',
    maskRatio: 'p-ratio',
    batch: 'p-batch',
    epochs: 'p-epochs',
    steps: 'p-steps',
    blr: 'p-blr',
    warmupEpochs: 'p-warmup',
    seed: 'p-seed',
    backend: 'p-backend',
    probeData: 'p-probe',
    probeSchema: 'p-probe-schema',
    probeEvery: 'p-probe-every',
    checkpointEvery: 'p-ckpt',
  };

  it("each labelled field: the declaration's label, and as its tooltip the CLI's help with the default", async () => {
    const { PRETRAIN_FIELDS, helpOf, pretrainDefault } = await import('../../trainer/src/protocol/pretrain-fields.js');
    type K = keyof typeof PRETRAIN_FIELDS;
    const labelled = (Object.keys(PRETRAIN_FIELDS) as K[]).filter((k) => 'label' in PRETRAIN_FIELDS[k]);
    // every field the declaration gives a label is on the form
    expect(Object.keys(CONTROL).sort()).toEqual([...labelled].sort());
    const { w } = await form();
    // the probe's schema and interval show once a probe set is chosen, the steps once the length is in steps
    await w.find('#p-probe').setValue('8');
    await flushPromises();
    const shown = (k: K) => {
      const id = CONTROL[k]!;
      const label = (PRETRAIN_FIELDS[k] as { label: string }).label;
      return [
        w.find(`label[for="${id}"]`).text(),
        w.find(`#${id}`).attributes('title'),
        k === 'maskRatio' ? `${label}: ${(pretrainDefault('maskRatio') as number).toFixed(2)}` : label,
        helpOf(k),
      ];
    };
    for (const k of labelled.filter((x) => x !== 'steps')) {
      const [label, title, wantLabel, wantTitle] = shown(k);
      expect({ k, label, title }).toEqual({ k, label: wantLabel, title: wantTitle });
    }
    await w.find('#p-length').setValue('steps');
    const [label, title, wantLabel, wantTitle] = shown('steps');
    expect([label, title]).toEqual([wantLabel, wantTitle]);
    // the tooltip is the CLI's own text: `camd pretrain --help` gives the same, with the default
    expect(w.find('#p-batch').attributes('title')).toBe('images per step (default 16)');
    w.unmount();
  });

  it('the values it starts with are the declared defaults', async () => {
    const { pretrainDefault } = await import('../../trainer/src/protocol/pretrain-fields.js');
    const { w } = await form();
    const value = (id: string) => (w.find(id).element as HTMLInputElement).value;
    expect({
      preset: value('#p-preset'),
      batch: value('#p-batch'),
      epochs: value('#p-epochs'),
      blr: value('#p-blr'),
      warmupEpochs: value('#p-warmup'),
      seed: value('#p-seed'),
      checkpointEvery: value('#p-ckpt'),
      backend: value('#p-backend'),
      maskRatio: w.find('label[for="p-ratio"]').text(),
    }).toEqual({
      preset: pretrainDefault('preset'),
      batch: String(pretrainDefault('batch')),
      epochs: String(pretrainDefault('epochs')),
      blr: String(pretrainDefault('blr')),
      warmupEpochs: String(pretrainDefault('warmupEpochs')),
      seed: String(pretrainDefault('seed')),
      checkpointEvery: String(pretrainDefault('checkpointEvery')),
      backend: pretrainDefault('backend'),
      maskRatio: `Masking ratio: ${(pretrainDefault('maskRatio') as number).toFixed(2)}`,
    });
    w.unmount();
  });
});
