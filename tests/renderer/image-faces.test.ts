// @vitest-environment happy-dom
// The image view of a photo with faces: each face's crop square and landmarks drawn in the
// photo's pixel coordinates, what became of each face, the models' suggestions as suggestions,
// and "Not a face" sending the drop and showing its result.
import { describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia } from 'pinia';

const calls: { op: string; params: unknown }[] = [];
const face = (id: number, index: number, status: string, crop: number | null) => ({
  id,
  dataset_id: 9,
  source_image_id: 5,
  crop_image_id: crop,
  face_index: index,
  score: 0.97,
  box: [100 + 300 * index, 80, 120, 150],
  landmarks: {
    rightEye: [130 + 300 * index, 130],
    leftEye: [190 + 300 * index, 130],
    nose: [160 + 300 * index, 165],
    rightMouth: [140 + 300 * index, 200],
    leftMouth: [180 + 300 * index, 200],
  },
  pose: { roll: 2.4, yaw: -11.6, pitch: 3 },
  status,
  crop: [
    [40 + 300 * index, 20],
    [280 + 300 * index, 20],
    [280 + 300 * index, 260],
    [40 + 300 * index, 260],
  ],
  outside: 0,
  suggestions: {
    source: '@vladmandic/human@3.3.6 faceres (age, gender) + emotion',
    age: 31.4,
    gender: 'female',
    emotion: [{ emotion: 'happy', score: 0.91 }],
  },
});
const photo = {
  id: 5,
  dataset_id: 1,
  rel_path: 'group.jpg',
  width: 900,
  height: 400,
  status: 'ok',
  error: null as string | null,
  bytes: 1000,
  mtime_ms: 0,
  format: 'jpeg',
  sha256: 'a'.repeat(64),
  labels: [],
};
const reply = { image: photo, faces: [face(11, 0, 'kept', 21), face(12, 1, 'small', null)] };
vi.mock('../../renderer/src/api.js', () => ({
  api: {
    call: vi.fn(async (op: string, params: unknown) => {
      calls.push({ op, params });
      if (op === 'datasets.image') return reply.image;
      if (op === 'faces.ofImage') return reply.faces;
      if (op === 'faces.drop') return { face: face(11, 0, 'dropped', null), job: null };
      if (op === 'runs.list') return [];
      throw new Error(`unexpected ${op}`);
    }),
    subscribe: vi.fn(async () => () => undefined),
  },
  messageOf: (e: unknown) => String(e),
  imageSrc: () => '',
}));

describe('faces in the image view', () => {
  it('draws each face where it is, lists what became of it, and drops a wrong detection', async () => {
    HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
      this.setAttribute('open', '');
    };
    const { default: ImageDetail } = await import('../../renderer/src/components/ImageDetail.vue');
    const w = mount(ImageDetail, {
      props: { id: null },
      attachTo: document.body,
      global: { plugins: [createPinia()] },
    });
    await w.setProps({ id: 5 } as never);
    await flushPromises();
    const svg = w.find('svg.overlay');
    expect(svg.attributes('viewBox')).toBe('0 0 900 400'); // photo pixels: the overlay scales with the picture
    const groups = w.findAll('svg.overlay g.face');
    expect(groups.map((g) => g.classes().filter((c) => c !== 'face'))).toEqual([['kept'], ['small']]);
    expect(groups[0]!.find('polygon').attributes('points')).toBe('40,20 280,20 280,260 40,260');
    expect(groups[0]!.findAll('circle').map((c) => [c.attributes('cx'), c.attributes('cy')])).toEqual([
      ['130', '130'],
      ['190', '130'],
      ['160', '165'],
      ['140', '200'],
      ['180', '200'],
    ]);
    const rows = w.findAll('table.faces tbody tr').map((r) => r.findAll('td').map((td) => td.text()));
    expect(rows).toEqual([
      ['1', 'kept', '0.97', '2° / -12°', 'Not a face'],
      ['2', 'too small', '0.97', '2° / -12°', ''],
    ]);
    expect(w.text()).toContain('Face 1, suggested: age ~31, female, happy (91 %)');
    expect(w.text()).toContain('a suggestion, not a label');
    await w.find('table.faces button').trigger('click');
    await flushPromises();
    expect(calls.filter((c) => c.op === 'faces.drop')).toEqual([
      { op: 'faces.drop', params: { face: 11, undo: false } },
    ]);
    expect(w.findAll('svg.overlay g.face')[0]!.classes()).toContain('dropped');
    expect(w.find('table.faces tbody tr').text()).toContain('dropped by you');
    expect(w.find('table.faces button').text()).toBe('Restore');
    w.unmount();
  });

  it('an ordinary readable image shows no error; an unreadable one says why', async () => {
    const { default: ImageDetail } = await import('../../renderer/src/components/ImageDetail.vue');
    reply.faces = [];
    reply.image = { ...photo, rel_path: 'plain.jpg' };
    const ok = mount(ImageDetail, {
      props: { id: null },
      attachTo: document.body,
      global: { plugins: [createPinia()] },
    });
    await ok.setProps({ id: 6 } as never);
    await flushPromises();
    expect(ok.find('img').exists()).toBe(true);
    expect(ok.text()).not.toContain('cannot be used');
    expect(ok.find('.banner.bad').exists()).toBe(false);
    ok.unmount();
    reply.image = {
      ...photo,
      rel_path: 'broken.jpg',
      status: 'error',
      error: 'the file is not a JPEG, PNG or WebP image',
      width: 0,
      height: 0,
    };
    const bad = mount(ImageDetail, {
      props: { id: null },
      attachTo: document.body,
      global: { plugins: [createPinia()] },
    });
    await bad.setProps({ id: 7 } as never);
    await flushPromises();
    expect(bad.find('.banner.bad').text()).toBe('This file cannot be used: the file is not a JPEG, PNG or WebP image');
    bad.unmount();
  });
});
