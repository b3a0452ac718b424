/**
 * The outputs of an exported model, on the encoder trunk of onnx/vit.ts, each computing what our
 * model computes:
 *  - encoder: `embedding` (batch, C), the mean of the patch tokens, and `patch_features`
 *    (batch, G², C), as the TensorFlow.js export gives them;
 *  - classifier (finetune/classifier.ts): `logits` (batch, K) and `embedding`, fc_norm of that
 *    mean (the features the head reads);
 *  - landmarks (landmarks/landmark-model.ts): fc_norm and the head at every patch → K heatmaps on
 *    the G×G grid, bilinear ×4 (half-pixel centres) → softmax over positions → `landmarks`
 *    (batch, K, 2), the expected cell centre (x, y) as a fraction of the input side;
 *  - pose (pose/pose-model.ts): fc_norm and the head at every patch, weighted by head.pool_weight
 *    and summed → `six_d` (batch, 6), and by Gram–Schmidt `rotation` (batch, 3, 3), R = [x y z]
 *    as columns;
 *  - parsing (parsing/parsing-model.ts): the UperNet-style head on the tapped blocks' patch tokens
 *    → `logits` (batch, K, S, S), NCHW, one map per class at the input's size.
 */
import type { Exportable } from '../finetune/export.js';
import { cellCentres, UPSAMPLE } from '../landmarks/landmark-model.js';
import { PPM_SCALES, tapBlocks } from '../parsing/parsing-model.js';
import { NORM_FLOOR } from '../pose/pose-model.js';
import { layerNormOp, linearOp, type OnnxOutput, type VitTrunk, vitTrunk } from './vit.js';

function declare(t: VitTrunk, value: string, o: OnnxOutput): void {
  t.g.output(value, o.name, o.dims, o.doc);
  t.outputs.push(o);
}

const meanOfPatches = (t: VitTrunk) => t.g.op('ReduceMean', [t.patches], { axes: [1], keepdims: 0 }, 'mean_pool');

function encoderOutputs(t: VitTrunk): void {
  const { C, G, N } = t;
  declare(t, meanOfPatches(t), {
    name: 'embedding',
    dims: ['batch', C],
    doc: 'the mean of the patch tokens after the last block',
  });
  declare(t, t.patches, {
    name: 'patch_features',
    dims: ['batch', N, C],
    doc: `the ${G}×${G} patch tokens after the last block, row-major`,
  });
}

function classifierOutputs(t: VitTrunk, K: number): void {
  const features = layerNormOp(t.g, t.T, meanOfPatches(t), 'fc_norm');
  declare(t, linearOp(t.g, t.T, features, 'head'), {
    name: 'logits',
    dims: ['batch', K],
    doc: 'one score per class or attribute (softmax or sigmoid as camd.task says)',
  });
  declare(t, features, {
    name: 'embedding',
    dims: ['batch', t.C],
    doc: 'fc_norm of the mean of the patch tokens: the features the head reads',
  });
}

function landmarkOutputs(t: VitTrunk, K: number): void {
  const { g, G } = t;
  const side = G * UPSAMPLE;
  const perPatch = linearOp(g, t.T, layerNormOp(g, t.T, t.patches, 'fc_norm'), 'head'); // (batch, G², K)
  const grid = g.op('Transpose', [g.op('Reshape', [perPatch, g.ints('grid_shape', [0, G, G, K])])], {
    perm: [0, 3, 1, 2],
  });
  const up = g.op(
    'Resize',
    [grid, '', g.floats('upsample_scales', [4], [1, 1, UPSAMPLE, UPSAMPLE])],
    { mode: 'linear', coordinate_transformation_mode: 'half_pixel' },
    'heatmaps',
  );
  const p = g.op('Softmax', [g.op('Reshape', [up, g.ints('heatmap_shape', [0, K, side * side])])], { axis: -1 });
  const { xs, ys } = cellCentres(side);
  const last = g.ints('last_axis', [-1]);
  const expect = (cells: Float32Array, name: string) =>
    g.op('ReduceSum', [g.op('Mul', [p, g.floats(name, [side * side], cells)]), last], { keepdims: 1 });
  declare(t, g.op('Concat', [expect(xs, 'cell_x'), expect(ys, 'cell_y')], { axis: -1 }), {
    name: 'landmarks',
    dims: ['batch', K, 2],
    doc: 'each point (x, y) as a fraction of the input side (0 the left/top edge, 1 the right/bottom)',
  });
}

function poseOutputs(t: VitTrunk): void {
  const { g, N } = t;
  const perPatch = linearOp(g, t.T, layerNormOp(g, t.T, t.patches, 'fc_norm'), 'head'); // (batch, N, 6)
  const pool = t.T('head.pool_weight');
  const six = g.op(
    'ReduceSum',
    [g.op('Mul', [perPatch, g.floats('head.pool_weight', [N, 6], pool.data)]), g.ints('patch_axis', [1])],
    { keepdims: 0 },
    'six_d',
  );
  const axis1 = g.ints('vector_axis', [1]);
  const floor = g.floats('norm_floor', [], [NORM_FLOOR]);
  const part = (from: number, name: string) =>
    g.op('Slice', [six, g.ints(`${name}_from`, [from]), g.ints(`${name}_to`, [from + 3]), axis1], {}, name);
  const normalise = (v: string) =>
    g.op('Div', [
      v,
      g.op('Max', [g.op('Sqrt', [g.op('ReduceSum', [g.op('Mul', [v, v]), axis1], { keepdims: 1 })]), floor]),
    ]);
  const yzx = g.ints('yzx', [1, 2, 0]);
  const zxy = g.ints('zxy', [2, 0, 1]);
  const gather = (v: string, idx: string) => g.op('Gather', [v, idx], { axis: 1 });
  // a × b = a_yzx·b_zxy − a_zxy·b_yzx
  const cross = (a: string, b: string) =>
    g.op('Sub', [g.op('Mul', [gather(a, yzx), gather(b, zxy)]), g.op('Mul', [gather(a, zxy), gather(b, yzx)])]);
  const x = normalise(part(0, 'a'));
  const z = normalise(cross(x, part(3, 'b')));
  const y = cross(z, x);
  const col = (v: string) => g.op('Unsqueeze', [v, g.ints('column_axis', [2])]);
  declare(t, six, {
    name: 'six_d',
    dims: ['batch', 6],
    doc: 'the 6-D rotation (Zhou et al. 2019): a = six_d[0:3], b = six_d[3:6]',
  });
  declare(t, g.op('Concat', [col(x), col(y), col(z)], { axis: 2 }), {
    name: 'rotation',
    dims: ['batch', 3, 3],
    doc: 'R = [x y z] as columns, x = a/|a|, z = (x × b)/|x × b|, y = z × x; 300W-LP: R = Rz(roll) Ry(yaw) Rx(pitch)',
  });
}

function parsingOutputs(t: VitTrunk, e: Exportable): void {
  const { g, G, C, N } = t;
  const K = e.outputs!;
  const S = e.model.imgSize;
  const fine = 4 * G;
  const sides = [4 * G, 2 * G, G, Math.ceil(G / 2)];
  const conv = (x: string, name: string, k: 1 | 3) => {
    const w = t.T(`${name}.weight`);
    return g.op(
      'Conv',
      [
        x,
        g.floats(`${name}.weight`, w.shape, w.data),
        g.floats(`${name}.bias`, [w.shape[0]!], t.T(`${name}.bias`).data),
      ],
      { kernel_shape: [k, k], pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0] },
      name,
    );
  };
  const relu = (x: string) => g.op('Relu', [x]);
  const batchAndChannels = (x: string) => g.op('Slice', [g.op('Shape', [x]), g.ints('zero2', [0]), g.ints('two', [2])]);
  const sizeCache = new Map<number, string>();
  const hw = (side: number) => {
    if (!sizeCache.has(side)) sizeCache.set(side, g.ints(`side_${side}`, [side, side]));
    return sizeCache.get(side)!;
  };
  // bilinear with half-pixel centres to side × side (tf.image.resizeBilinear(…, false, true)); a no-op at that side
  const up = (x: string, from: number, side: number) =>
    from === side
      ? x
      : g.op(
          'Resize',
          [x, '', '', g.op('Concat', [batchAndChannels(x), hw(side)], { axis: 0 })],
          { mode: 'linear', coordinate_transformation_mode: 'half_pixel' },
          `resize_${side}`,
        );
  const ones = g.floats('ln_ones', [C], new Float32Array(C).fill(1));
  const zeros = g.floats('ln_zeros', [C], new Float32Array(C));
  const gridShape = g.ints('nchw_grid', [0, C, G, G]);
  const taps = tapBlocks(e.model.depth);
  const levels = taps.map((b, i) => {
    const patches = g.op('Slice', [
      t.blocks[b]!,
      g.ints('from_one_p', [1]),
      g.ints('to_end_p', [N + 1]),
      g.ints('token_axis_p', [1]),
    ]);
    const normed = g.op('LayerNormalization', [patches, ones, zeros], { axis: -1, epsilon: 1e-6 });
    const grid = g.op('Reshape', [g.op('Transpose', [normed], { perm: [0, 2, 1] }), gridShape]);
    const lat = conv(grid, `decode.lateral.${i}`, 1);
    if (i < 3) return up(lat, G, sides[i]!);
    // 2×2 average pooling, stride 2, TensorFlow's 'same' padding (the odd row/column at the end, not counted)
    const pad = G % 2;
    return g.op('AveragePool', [lat], {
      kernel_shape: [2, 2],
      strides: [2, 2],
      pads: [0, 0, pad, pad],
      count_include_pad: 0,
    });
  });
  const top = levels[3]!;
  const gTop = sides[3]!;
  const pooled = PPM_SCALES.map((s, j) => {
    const p = s === 1 ? g.op('GlobalAveragePool', [top]) : up(top, gTop, s);
    return up(relu(conv(p, `decode.ppm.${j}`, 1)), s, gTop);
  });
  const fpnIn = [...levels];
  fpnIn[3] = relu(conv(g.op('Concat', [top, ...pooled], { axis: 1 }), 'decode.ppm_bottleneck', 3));
  for (let i = 2; i >= 0; i--) fpnIn[i] = g.op('Add', [fpnIn[i]!, up(fpnIn[i + 1]!, sides[i + 1]!, sides[i]!)]);
  const outs = fpnIn.map((x, i) => (i < 3 ? relu(conv(x, `decode.fpn.${i}`, 3)) : x));
  const fused = relu(
    conv(
      g.op(
        'Concat',
        outs.map((x, i) => up(x, sides[i]!, fine)),
        { axis: 1 },
      ),
      'decode.fuse',
      1,
    ),
  );
  declare(t, up(conv(fused, 'decode.cls', 1), fine, S), {
    name: 'logits',
    dims: ['batch', K, S, S],
    doc: 'per-pixel class scores at the input size, NCHW (argmax over the classes: the label map)',
  });
}

/** The whole graph of an exportable model: its trunk and its outputs. */
export function modelGraph(e: Exportable): VitTrunk {
  const t = vitTrunk(e);
  const task = e.geometry?.task;
  if (task === 'parsing') parsingOutputs(t, e);
  else if (task === 'landmarks') landmarkOutputs(t, e.outputs!);
  else if (task === 'pose') poseOutputs(t);
  else if (e.outputs === null) encoderOutputs(t);
  else classifierOutputs(t, e.outputs);
  return t;
}
