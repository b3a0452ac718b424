// @vitest-environment happy-dom
// A run's files offer "Export for deployment (ONNX)": what a person sees after clicking it — the
// file, its size, the input it expects, its outputs and a snippet to run it in Node or Python —
// from the host's answer (the shape `camd export --format onnx --json` gives, checked in
// tests/integration/contract.test.ts against the real process).
import { describe, expect, it, vi } from 'vitest';
import { flushPromises, mount } from '@vue/test-utils';
import RunFiles from '../../renderer/src/components/RunFiles.vue';
import type { OnnxExport } from '../../electron/common/contract.js';

const answer: OnnxExport = {
  kind: 'classifier',
  bytes: 22026787,
  opset: 17,
  preprocessing: {
    size: 112,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    normalisation: 'imagenet',
    crop: 'resize the face so its shorter side is 128 px, then the centre 112×112 (camd finetune’s evaluation view)',
  },
  outputs: [
    { name: 'logits', dims: ['batch', 7], doc: 'one score per class or attribute' },
    { name: 'embedding', dims: ['batch', 192], doc: 'the features the head reads' },
  ],
  names: ['neutral', 'happy', 'sad', 'surprise', 'fear', 'disgust', 'anger'],
};
const call = vi.fn(async (op: string, p: { id: number; format: string }) => {
  if (op !== 'checkpoints.export' || p.format !== 'onnx') throw new Error(`unexpected ${op}`);
  if (p.id === 9) throw new Error('the file of checkpoint 9 is gone');
  return { out: '/home/me/.camd/exports/1a2b3c4d-classifier-30.onnx', message: '', onnx: answer };
});
vi.mock('../../renderer/src/api.js', () => ({
  api: { call: (...a: unknown[]) => call(...(a as [string, never])) },
  messageOf: (e: unknown) => (e as Error).message,
}));

const row = (id: number, kind: 'full' | 'encoder' | 'classifier' | 'last', exists = true) => ({
  id,
  run_id: '1a2b3c4d-0000-0000-0000-000000000000',
  step: 30,
  kind,
  path: `/runs/x/${kind}.safetensors`,
  sha256: 'a'.repeat(64),
  bytes: 22_000_000,
  created_at: '2026-12-06T15:00:00.000Z',
  exists,
});

describe('Export for deployment (ONNX)', () => {
  it('shows the file, its size, the input and outputs, and a snippet to run it in Node or Python', async () => {
    const w = mount(RunFiles, {
      props: { checkpoints: [row(1, 'full'), row(2, 'classifier'), row(3, 'last', false)] },
    });
    const buttons = w.findAll('button').filter((b) => b.text() === 'Export for deployment (ONNX)');
    expect(buttons).toHaveLength(1); // the best model only: not the resumable checkpoint, not a missing file
    await buttons[0]!.trigger('click');
    await flushPromises();
    expect(call).toHaveBeenCalledWith('checkpoints.export', { id: 2, format: 'onnx' });
    const text = w.find('[aria-label="ONNX export"]').text();
    expect(text).toContain('/home/me/.camd/exports/1a2b3c4d-classifier-30.onnx (21 MB, ONNX opset 17, a classifier)');
    expect(text).toContain(
      'pixel_values (batch, 3, 112, 112), float32, RGB; each value (pixel/255 − mean)/std with mean [0.485, 0.456, 0.406] and std [0.229, 0.224, 0.225]; resize the face so its shorter side is 128 px',
    );
    expect(text).toContain('logits (batch, 7): one score per class or attribute');
    expect(text).toContain('neutral, happy, sad, surprise, fear, disgust, anger');
    const snippet = () => w.find('pre.snippet').text();
    expect(snippet()).toContain("ort.InferenceSession.create('1a2b3c4d-classifier-30.onnx')");
    expect(snippet()).toContain('const S = 112, mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];');
    expect(snippet()).toContain("new ort.Tensor('float32', x, [1, 3, S, S])");
    await w
      .findAll('button')
      .find((b) => b.text() === 'Python (onnxruntime)')!
      .trigger('click');
    expect(snippet()).toContain("session = ort.InferenceSession('1a2b3c4d-classifier-30.onnx')");
    expect(snippet()).toContain("(logits,) = session.run(['logits'], {'pixel_values': x})");
  });

  it('a failure is said in words', async () => {
    const w = mount(RunFiles, { props: { checkpoints: [row(9, 'classifier')] } });
    await w.find('button').trigger('click');
    await flushPromises();
    expect(w.find('[role="alert"]').text()).toBe('the file of checkpoint 9 is gone');
  });
});
