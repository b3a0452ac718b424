/**
 * `camd export` of a face-geometry model (landmarks.safetensors, pose.safetensors,
 * parsing.safetensors of `camd finetune --task …`): what the model file holds, read into the
 * exporter's terms (finetune/export.ts `Exportable`) — its configuration, head outputs and class
 * names — with a plain description of its head and input for the exported file's metadata (task,
 * scheme, classes or points, input size, ImageNet mean/std), and the parsing head's convolutions in
 * PyTorch's Conv2d layout (ours are matrix products: (Cin, Cout), or (9·Cin, Cout) with rows in
 * (dy, dx, cin) order for a 3×3 one; PyTorch's (Cout, Cin, kh, kw)). The encoder's tensors are
 * converted as an encoder's are (timm names and layouts).
 */
import { IMAGENET_MEAN, IMAGENET_STD } from '../finetune/transforms.js';
import { LandmarkState } from '../landmarks/landmark-file.js';
import { UPSAMPLE } from '../landmarks/landmark-model.js';
import type { ModelConfig } from '../model/config.js';
import { ModelConfigSchema } from '../model/config.js';
import { ParsingState } from '../parsing/parsing-file.js';
import type { Exportable } from '../finetune/export.js';
import { type NamedArray, readTensorFile, type TensorFile, tensorFileFormat } from '../store/checkpoint.js';
import { UserError } from '../util/errors.js';
import { z } from 'zod';

/** The model-file formats of the geometry tasks, by task. */
export const GEOMETRY_FILE_FORMATS = {
  landmarks: 'camd-landmarks',
  pose: 'camd-pose',
  parsing: 'camd-parsing',
} as const;
export type GeometryFileTask = keyof typeof GEOMETRY_FILE_FORMATS;

const PoseState = z.object({ task: z.literal('pose'), model: ModelConfigSchema }).passthrough();

interface GeometryExportable {
  task: GeometryFileTask;
  model: ModelConfig;
  outputs: number;
  names: string[] | null;
  /** For the exported file: task, scheme, classes or points, input, the head in words. */
  meta: Record<string, unknown>;
  /** Our tensors that the exported file leaves out (the parsing model's unused classifier head). */
  unused: (name: string) => boolean;
}

function input(model: ModelConfig): Record<string, unknown> {
  return {
    input_size: model.imgSize,
    mean: [...IMAGENET_MEAN],
    std: [...IMAGENET_STD],
    input: `RGB, (x / 255 − mean) / std, ${model.imgSize}×${model.imgSize} (the face cut out as training cut it)`,
  };
}

/** The task of a geometry model file, or null for another file. */
export function geometryTaskOfFormat(format: string): GeometryFileTask | null {
  const hit = Object.entries(GEOMETRY_FILE_FORMATS).find(([, f]) => f === format);
  return hit ? (hit[0] as GeometryFileTask) : null;
}

/** A geometry model file's description; refuses damaged metadata in words. */
function geometryExportable(f: TensorFile, file: string): GeometryExportable {
  const task = geometryTaskOfFormat(f.format);
  const bad = () => new UserError(`${file}: the ${task} model's metadata is invalid`);
  if (task === 'landmarks') {
    const s = LandmarkState.safeParse(f.state);
    if (!s.success) throw bad();
    const G = s.data.model.imgSize / s.data.model.patchSize;
    return {
      task,
      model: s.data.model,
      outputs: s.data.points,
      names: null,
      unused: () => false,
      meta: {
        task,
        scheme: s.data.scheme,
        points: s.data.points,
        ...input(s.data.model),
        head: `each patch token (cls left out) → fc_norm (LayerNorm, eps 1e-6) → head (Linear ${s.data.model.embedDim}→${s.data.points}): ${s.data.points} heatmaps on the ${G}×${G} patch grid, upsampled bilinearly ×${UPSAMPLE} (half-pixel centres) to ${G * UPSAMPLE}×${G * UPSAMPLE}, softmax over positions; each point is the expected cell centre (x, y) as a fraction of the input side`,
      },
    };
  }
  if (task === 'pose') {
    const s = PoseState.safeParse(f.state);
    if (!s.success) throw bad();
    return {
      task,
      model: s.data.model,
      outputs: 6,
      names: null,
      unused: () => false,
      meta: {
        task,
        ...input(s.data.model),
        representation:
          '6-D (Zhou et al. 2019): a = six[0:3], b = six[3:6]; x = a/|a|, z = (x × b)/|x × b|, y = z × x; R = [x y z] as columns',
        convention: '300W-LP: R = Rz(roll) Ry(yaw) Rx(pitch)',
        head: 'each patch token (cls left out) → fc_norm (LayerNorm, eps 1e-6) → head (Linear C→6), times head.pool_weight (patches × 6), summed over the patches → the 6 numbers',
      },
    };
  }
  if (task === 'parsing') {
    const s = ParsingState.safeParse(f.state);
    if (!s.success) throw bad();
    return {
      task,
      model: s.data.model,
      outputs: s.data.classes.length,
      names: s.data.classes,
      // the classifier's own fc_norm and head are not part of the parsing model's forward pass
      unused: (n) => n.startsWith('fc_norm.') || n.startsWith('head.'),
      meta: {
        task,
        scheme: s.data.scheme,
        classes: s.data.classes,
        ...input(s.data.model),
        head: {
          width: s.data.head.width,
          taps: s.data.head.taps,
          description:
            'UperNet-style: the patch tokens after each tapped block (0-based) LayerNorm’ed (no affine, eps 1e-6) on the G×G grid → decode.lateral.i (1×1 conv), resized to 4G, 2G, G (bilinear, half-pixel) and ⌈G/2⌉ (2×2 average pool); PPM on the last: global mean and a 2×2 bilinear resize, each decode.ppm.j (1×1 conv) + ReLU, upsampled back, concatenated after the level → decode.ppm_bottleneck (3×3 conv, padding 1) + ReLU; top-down FPN (each level + the upsampled coarser one) → decode.fpn.i (3×3 conv) + ReLU for levels 0–2; the four levels upsampled to 4G, concatenated → decode.fuse (1×1 conv) + ReLU → decode.cls (1×1 conv), the logits upsampled bilinearly to the input side',
        },
      },
    };
  }
  throw new UserError(`${file} is not a face-geometry model`);
}

/** decode.* in PyTorch's Conv2d layout (Cout, Cin, k, k); biases as they are. */
export function parsingHeadTensors(tensors: Map<string, NamedArray>): NamedArray[] {
  const out: NamedArray[] = [];
  for (const name of [...tensors.keys()].filter((n) => n.startsWith('decode.'))) {
    const t = tensors.get(name)!;
    if (!name.endsWith('.weight')) {
      out.push(t);
      continue;
    }
    const [rows, cout] = t.shape as [number, number];
    const three = /^decode\.(ppm_bottleneck|fpn\.\d+)\.weight$/.test(name);
    const k = three ? 3 : 1;
    const cin = rows / (k * k);
    const w = new Float32Array(rows * cout);
    for (let dy = 0; dy < k; dy++)
      for (let dx = 0; dx < k; dx++)
        for (let c = 0; c < cin; c++)
          for (let o = 0; o < cout; o++)
            w[((o * cin + c) * k + dy) * k + dx] = t.data[((dy * k + dx) * cin + c) * cout + o]!;
    out.push({ name, shape: [cout, cin, k, k], data: w });
  }
  return out;
}

/** A face-geometry model file in the exporter's terms (finetune/export.ts), or null for another kind of file. */
export function readGeometryExportable(file: string): Exportable | null {
  const format = tensorFileFormat(file);
  if (format === null || geometryTaskOfFormat(format) === null) return null;
  let f: TensorFile;
  try {
    f = readTensorFile(file, format);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const g = geometryExportable(f, file);
  return {
    model: g.model,
    tensors: f.tensors,
    outputs: g.outputs,
    names: g.names,
    geometry: {
      task: g.task,
      meta: g.meta,
      unused: g.unused,
      extra: g.task === 'parsing' ? parsingHeadTensors(f.tensors) : [],
    },
  };
}
