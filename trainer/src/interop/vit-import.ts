/**
 * `camd import FILE --out encoder.safetensors`: a PyTorch ViT encoder (a `torch.save` file or a
 * safetensors file, weights-file.ts) — timm/MAE `vit_*_patch16`
 * weights, the released CAMD fine-tuned classifiers (models_vit.py) or the encoder of a released
 * CAMD pre-training checkpoint (models_CAMD.py: `blocks.*` online, `mm_blocks.*` teacher) — as our
 * encoder file, which `camd finetune --init`, `camd probe` and `camd see --data` read.
 *
 * Names: timm's and ours agree (patch_embed.proj, cls_token, pos_embed, blocks.i.{norm1, attn.qkv,
 * attn.proj, norm2, mlp.fc1, mlp.fc2}); a `module.` prefix (DDP) is dropped; the state dict may sit
 * under `model`, `state_dict` or `model_ema`. Layouts: Linear weights (out, in) → ours (in, out);
 * the patch-embedding conv (C, 3, p, p) → ours (p·p·3, C), rows ordered (row, column, channel).
 * The architecture is read from the shapes (width, depth, patch, input size from pos_embed) and the
 * head count from the preset of that width and depth (a ViT's weights do not say it).
 *
 * With `head` (the classes the head was trained on), a fine-tuned classifier — the released
 * models_vit.py with `global_pool` (fc_norm over the mean of the patch tokens, then `head`), as
 * ours — becomes our classifier file (what `camd predict` and model-assisted labelling read).
 */
import { randomUUID } from 'node:crypto';
import { basename, dirname } from 'node:path';
import type { Store } from '../store/store.js';
import { ENCODER_FORMAT, encodeTensorFile, type NamedArray } from '../store/checkpoint.js';
import { PRESET_NAMES, presetConfig, presetOfShape, type ModelConfig, type PresetName } from '../model/config.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { UserError } from '../util/errors.js';
import { CLASSIFIER_FORMAT } from '../finetune/classifier-file.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../finetune/transforms.js';
import type { Task } from '../labels/label-files.js';
import { flattenTensors, type TorchTensor } from './torch-file.js';
import { readWeightsFile } from './weights-file.js';

export interface ImportReport {
  out: string;
  source: string;
  model: ModelConfig;
  preset: PresetName;
  which: 'online' | 'teacher';
  tensors: number;
  ignored: string[];
  /** Written as a classifier: its task and classes. */
  head: { task: Task; names: string[] } | null;
  sha256: string;
  bytes: number;
}

/**
 * An imported classifier as a fine-tuning run of the store (status done, its file as the run's
 * classifier checkpoint), so that `camd predict` and the app's model-assisted labelling can use it
 * like a run fine-tuned here. Importing to the same file again updates that run.
 */
export function recordImportedClassifier(store: Store, r: ImportReport): string {
  if (!r.head) throw new Error('recordImportedClassifier: not a classifier');
  const existing = store.db
    .prepare("SELECT run_id FROM checkpoints WHERE path = ? AND kind = 'classifier'")
    .pluck()
    .get(r.out) as string | undefined;
  const runId = existing ?? randomUUID();
  const config = {
    source: 'pytorch',
    file: r.source,
    task: r.head.task,
    names: r.head.names,
    model: r.model,
    outputs: r.head.names.length,
  };
  store.db.transaction(() => {
    if (existing) store.updateRun(runId, { config: JSON.stringify(config) } as never);
    else
      store.createRun({
        id: runId,
        kind: 'finetune',
        name: `${basename(r.source)} (imported)`,
        config,
        seed: 0,
        outDir: dirname(r.out),
        totalSteps: null,
      });
    store.addCheckpoint({ run_id: runId, step: 0, kind: 'classifier', path: r.out, sha256: r.sha256, bytes: r.bytes });
    store.updateRun(runId, { status: 'done', last_step: 0, finished_at: new Date().toISOString() });
  })();
  return runId;
}

const BLOCK =
  /^blocks\.(\d+)\.(norm1\.(weight|bias)|attn\.qkv\.(weight|bias)|attn\.proj\.(weight|bias)|norm2\.(weight|bias)|mlp\.fc1\.(weight|bias)|mlp\.fc2\.(weight|bias))$/;

function stateDictOf(root: unknown): Map<string, TorchTensor> {
  if (root instanceof Map) {
    for (const k of ['model', 'state_dict', 'model_ema']) {
      const v = root.get(k);
      if (v instanceof Map && [...v.values()].some((x) => x && typeof x === 'object' && '__tensor' in x))
        return flattenTensors(v);
    }
  }
  return flattenTensors(root);
}

export async function importVit(
  file: string,
  out: string,
  o: { teacher?: boolean; preset?: PresetName; head?: { task: Task; names: string[] } } = {},
): Promise<ImportReport> {
  const f = await readWeightsFile(file).catch((e: unknown) => {
    throw new UserError((e as Error).message, 2, 'file');
  });
  const all = stateDictOf(f.root);
  const prefix = o.teacher ? 'mm_' : '';
  const sd = new Map<string, TorchTensor>();
  for (const [k0, t] of all) {
    const k = k0.startsWith('module.') ? k0.slice('module.'.length) : k0;
    if (prefix) {
      if (k.startsWith(prefix)) sd.set(k.slice(prefix.length), t);
      else if (k === 'pos_embed') sd.set(k, t);
    } else if (!k.startsWith('mm_')) sd.set(k, t);
  }
  const need = (name: string) => {
    const t = sd.get(name);
    if (!t)
      throw new UserError(
        `${file} has no ${prefix}${name}: not a ViT encoder we can read${o.teacher ? ' (--teacher needs a CAMD pre-training checkpoint with mm_* weights)' : ''}`,
        2,
        'file',
      );
    return t;
  };
  const conv = need('patch_embed.proj.weight');
  if (conv.shape.length !== 4 || conv.shape[1] !== 3 || conv.shape[2] !== conv.shape[3])
    throw new UserError(
      `${file}: patch_embed.proj.weight has shape [${conv.shape}], not a (C, 3, p, p) patch embedding`,
      2,
      'file',
    );
  const C = conv.shape[0]!;
  const p = conv.shape[2]!;
  const depth =
    1 +
    Math.max(
      -1,
      ...[...sd.keys()]
        .map((k) => BLOCK.exec(k))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1])),
    );
  const pe = sd.get('pos_embed');
  const tokens = pe ? pe.shape[pe.shape.length - 2]! - 1 : null;
  const grid = tokens !== null ? Math.round(Math.sqrt(tokens)) : null;
  if (grid !== null && grid * grid !== tokens)
    throw new UserError(`${file}: pos_embed has ${tokens} patch rows, not a square grid`, 2, 'file');
  const preset = o.preset ?? presetOfShape(C, depth, p);
  if (!preset)
    throw new UserError(
      `${file}: a ViT ${C} wide and ${depth} deep with ${p}-px patches matches no preset (${PRESET_NAMES.join(', ')}); give --preset to say which head count it has`,
      2,
      'preset',
    );
  const base = presetConfig(preset).model;
  if (base.embedDim !== C || base.depth !== depth || base.patchSize !== p)
    throw new UserError(
      `${file}: the weights are ${C} wide, ${depth} deep, ${p}-px patches; --preset ${preset} is ${base.embedDim} wide, ${base.depth} deep, ${base.patchSize}-px patches`,
      2,
      'preset',
    );
  const model = presetConfig(preset, { imgSize: grid !== null ? grid * p : base.imgSize }).model;

  // every tensor's shape, in PyTorch's layout, as a ViT of this width needs it: a file with another is refused by name
  const H = Math.round(C * model.mlpRatio);
  const K = o.head ? o.head.names.length : 0;
  const SHAPES: [RegExp, number[]][] = [
    [
      /^patch_embed\.proj\.bias$|^blocks\.\d+\.(norm[12]\.(weight|bias)|attn\.proj\.bias|mlp\.fc2\.bias)$|^fc_norm\.(weight|bias)$/,
      [C],
    ],
    [/^cls_token$/, [1, 1, C]],
    [/^blocks\.\d+\.attn\.qkv\.weight$/, [3 * C, C]],
    [/^blocks\.\d+\.attn\.qkv\.bias$/, [3 * C]],
    [/^blocks\.\d+\.attn\.proj\.weight$/, [C, C]],
    [/^blocks\.\d+\.mlp\.fc1\.weight$/, [H, C]],
    [/^blocks\.\d+\.mlp\.fc1\.bias$/, [H]],
    [/^blocks\.\d+\.mlp\.fc2\.weight$/, [C, H]],
    [/^head\.weight$/, [K, C]],
    [/^head\.bias$/, [K]],
  ];
  const tensors: NamedArray[] = [];
  const used = new Set<string>();
  const put = (name: string, t: TorchTensor, shape: number[], data: Float32Array) => {
    const want = SHAPES.find(([re]) => re.test(name))?.[1];
    const given = name === 'cls_token' && t.shape.length === 1 ? [1, 1, ...t.shape] : t.shape;
    if (want && given.join() !== want.join())
      throw new UserError(
        `${file}: ${name} has shape [${t.shape}]; a ViT ${C} wide${name.startsWith('head.') ? ` with ${K} outputs` : ''} needs [${want}]`,
        2,
        'file',
      );
    used.add(name);
    tensors.push({ name, shape, data });
  };
  // (C, 3, p, p) → (p·p·3, C): row (i, j, c) of ours is conv[:, c, i, j]
  {
    const w = conv.values();
    const outW = new Float32Array(p * p * 3 * C);
    for (let oc = 0; oc < C; oc++)
      for (let c = 0; c < 3; c++)
        for (let i = 0; i < p; i++)
          for (let j = 0; j < p; j++) outW[((i * p + j) * 3 + c) * C + oc] = w[((oc * 3 + c) * p + i) * p + j]!;
    put('patch_embed.proj.weight', conv, [p * p * 3, C], outW);
  }
  const copy = (name: string, shape?: number[]) => {
    const t = need(name);
    put(name, t, shape ?? t.shape, t.values());
  };
  const linearT = (name: string) => {
    const t = need(name);
    if (t.shape.length !== 2)
      throw new UserError(`${file}: ${name} has shape [${t.shape}], not a Linear weight`, 2, 'file');
    const [o2, i2] = t.shape as [number, number];
    const v = t.values();
    const tr = new Float32Array(o2 * i2);
    for (let r = 0; r < o2; r++) for (let c = 0; c < i2; c++) tr[c * o2 + r] = v[r * i2 + c]!;
    put(name, t, [i2, o2], tr);
  };
  copy('patch_embed.proj.bias');
  copy('cls_token', [1, 1, C]);
  if (pe) put('pos_embed', pe, [1, tokens! + 1, C], pe.values());
  for (let i = 0; i < depth; i++) {
    for (const n of [
      'norm1.weight',
      'norm1.bias',
      'attn.qkv.bias',
      'attn.proj.bias',
      'norm2.weight',
      'norm2.bias',
      'mlp.fc1.bias',
      'mlp.fc2.bias',
    ])
      copy(`blocks.${i}.${n}`);
    for (const n of ['attn.qkv.weight', 'attn.proj.weight', 'mlp.fc1.weight', 'mlp.fc2.weight'])
      linearT(`blocks.${i}.${n}`);
  }
  const source = { file: basename(file), format: 'pytorch', which: o.teacher ? 'teacher (mm_*)' : 'online' };
  let encoded: { bytes: Buffer; sha256: string };
  if (o.head) {
    // fc_norm over the mean of the patch tokens, then the head (models_vit.py with global_pool, as ours)
    if (!sd.has('fc_norm.weight'))
      throw new UserError(
        `${file} has no fc_norm.weight: ${sd.has('norm.weight') && sd.has('head.weight') ? "a classifier on the class token (global_pool='token'); ours pools the patch tokens — import the encoder (without --head) and fine-tune it" : 'not a fine-tuned ViT classifier'}`,
        2,
        'head',
      );
    const head = need('head.weight');
    const K = head.shape[0]!;
    if (head.shape.length !== 2 || head.shape[1] !== C)
      throw new UserError(`${file}: head.weight has shape [${head.shape}], not (classes, ${C})`, 2, 'file');
    if (K !== o.head.names.length)
      throw new UserError(
        `${file}: its head has ${K} output(s); --head names ${o.head.names.length} class(es) (${o.head.names.slice(0, 8).join(', ')}${o.head.names.length > 8 ? ', …' : ''})`,
        2,
        'head',
      );
    copy('fc_norm.weight');
    copy('fc_norm.bias');
    linearT('head.weight');
    copy('head.bias');
    const state = {
      kind: CLASSIFIER_FORMAT,
      task: o.head.task,
      names: o.head.names,
      spec: { model, outputs: K, dropPath: 0 },
      img_size: model.imgSize,
      normalisation: { name: 'imagenet', mean: IMAGENET_MEAN, std: IMAGENET_STD },
      source,
    };
    encoded = encodeTensorFile(CLASSIFIER_FORMAT, state, tensors);
  } else {
    const state = { kind: 'camd-encoder', model, source, normalisation: { name: 'as its source trained it' } };
    encoded = encodeTensorFile(ENCODER_FORMAT, state, tensors);
  }
  // weights of a run that diverged are NaN or infinite: an encoder of them computes nothing
  const broken = tensors.filter((t) => t.data.some((v) => !Number.isFinite(v)));
  if (broken.length) {
    const first = broken[0]!;
    const bad = first.data.reduce((n, v) => n + (Number.isFinite(v) ? 0 : 1), 0);
    throw new UserError(
      `${file}: ${broken.length} of ${tensors.length} tensors hold NaN or infinite values (${first.name}: ${bad} of ${first.data.length}), as a run that diverged leaves them; import an earlier checkpoint`,
      2,
      'file',
    );
  }
  writeFileAtomic(out, encoded.bytes);
  const ignored = [...sd.keys()].filter((k) => !used.has(k));
  return {
    out,
    source: file,
    model,
    preset,
    which: o.teacher ? 'teacher' : 'online',
    tensors: tensors.length,
    ignored,
    head: o.head ?? null,
    sha256: encoded.sha256,
    bytes: encoded.bytes.length,
  };
}
