// The ONNX graph builder's limits: a protobuf message (a whole .onnx file) cannot pass 2 GiB, so a
// model whose weights would not fit is refused in words before anything is copied (ViT-H/14's are
// 2.5 GB), and the builder counts the bytes it holds.
import { describe, expect, it } from 'vitest';
import { MAX_WEIGHT_BYTES, OnnxGraph, weightsTooLarge } from '../../trainer/src/onnx/graph.js';
import { presetConfig } from '../../trainer/src/model/config.js';

/** Float32 weights of a ViT encoder: patch embedding, cls and positions, the blocks (method.md §2). */
function vitBytes(preset: 'base' | 'large' | 'huge'): number {
  const m = presetConfig(preset).model;
  const C = m.embedDim;
  const N = (m.imgSize / m.patchSize) ** 2;
  const hidden = Math.round(C * m.mlpRatio);
  const block = 4 * C + (3 * C * C + 3 * C) + (C * C + C) + (C * hidden + hidden) + (hidden * C + C);
  return 4 * (3 * m.patchSize ** 2 * C + C + C + (1 + N) * C + m.depth * block);
}

describe('ONNX size limit', () => {
  it('ViT-B and ViT-L fit one file; ViT-H does not, and is refused with the size and what to use instead', () => {
    expect(weightsTooLarge(vitBytes('base'))).toBeNull();
    expect(weightsTooLarge(vitBytes('large'))).toBeNull();
    expect(weightsTooLarge(vitBytes('huge'))).toBe(
      `the model's weights take ${(vitBytes('huge') / 2 ** 30).toFixed(2)} GiB, and an ONNX file holds at most 1.98 GiB of them (protobuf's 2 GiB limit): export it with --format safetensors or pytorch`,
    );
    expect(weightsTooLarge(MAX_WEIGHT_BYTES)).toBeNull();
    expect(weightsTooLarge(MAX_WEIGHT_BYTES + 4)).not.toBeNull();
  });

  it('the builder counts the float32 weights it holds (int64 shapes are not weights)', () => {
    const g = new OnnxGraph();
    g.floats('w', [3, 4], new Float32Array(12));
    g.floats('b', [4], [1, 2, 3, 4]);
    g.ints('shape', [0, -1]);
    expect(g.weightBytes).toBe(64);
  });
});
