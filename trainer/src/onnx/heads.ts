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
 *    as columns.
 */
import type { Exportable } from '../finetune/export.js';
import { UPSAMPLE } from '../landmarks/landmark-model.js';
import { layerNormOp, linearOp, type OnnxOutput, type VitTrunk, vitTrunk } from './vit.js';

/** The smallest length a vector is divided by (pose-model.ts's normalise). */
const NORM_FLOOR = 1e-8;

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
  const xs = new Float32Array(side * side);
  const ys = new Float32Array(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      xs[y * side + x] = (x + 0.5) / side;
      ys[y * side + x] = (y + 0.5) / side;
    }
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

/** The whole graph of an exportable model: its trunk and its outputs. */
export function modelGraph(e: Exportable): VitTrunk {
  const t = vitTrunk(e);
  const task = e.geometry?.task;
  if (task === 'parsing') throw new Error("a parsing model's UperNet head is not exported to ONNX yet");
  if (task === 'landmarks') landmarkOutputs(t, e.outputs!);
  else if (task === 'pose') poseOutputs(t);
  else if (e.outputs === null) encoderOutputs(t);
  else classifierOutputs(t, e.outputs);
  return t;
}
