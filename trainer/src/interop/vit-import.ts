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
import { VitTensors, type NeedTensor } from './vit-tensors.js';

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

/** The encoder's tensors (the online one's, or with `teacher` the teacher's mm_* under our names), without DDP's `module.` prefix. */
function encoderStateDict(all: Map<string, TorchTensor>, teacher: boolean | undefined): Map<string, TorchTensor> {
  const prefix = teacher ? 'mm_' : '';
  const sd = new Map<string, TorchTensor>();
  for (const [k0, t] of all) {
    const k = k0.startsWith('module.') ? k0.slice('module.'.length) : k0;
    if (prefix) {
      if (k.startsWith(prefix)) sd.set(k.slice(prefix.length), t);
      else if (k === 'pos_embed') sd.set(k, t);
    } else if (!k.startsWith('mm_')) sd.set(k, t);
  }
  return sd;
}

/** Looks a tensor up by our name; a missing one says the file is not a ViT encoder we can read. */
function needIn(sd: Map<string, TorchTensor>, file: string, teacher: boolean | undefined): NeedTensor {
  const prefix = teacher ? 'mm_' : '';
  return (name: string) => {
    const t = sd.get(name);
    if (!t)
      throw new UserError(
        `${file} has no ${prefix}${name}: not a ViT encoder we can read${teacher ? ' (--teacher needs a CAMD pre-training checkpoint with mm_* weights)' : ''}`,
        2,
        'file',
      );
    return t;
  };
}

/** The ViT the weights are: read from their shapes, its head count from the preset of that width and depth. */
interface VitArchitecture {
  /** The patch embedding, (C, 3, p, p). */
  conv: TorchTensor;
  C: number;
  p: number;
  depth: number;
  pe: TorchTensor | undefined;
  /** Patch rows of pos_embed (null without one). */
  tokens: number | null;
  preset: PresetName;
  model: ModelConfig;
}

/** The preset of a ViT `C` wide, `depth` deep with `p`-px patches: the one given, checked, or the one of that shape. */
function presetOfWeights(
  file: string,
  s: { C: number; depth: number; p: number },
  given: PresetName | undefined,
): { preset: PresetName; base: ModelConfig } {
  const { C, depth, p } = s;
  const preset = given ?? presetOfShape(C, depth, p);
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
  return { preset, base };
}

/** Width, patch and depth from the shapes, the input size from pos_embed, then the preset. */
function readArchitecture(
  file: string,
  sd: Map<string, TorchTensor>,
  need: NeedTensor,
  given: PresetName | undefined,
): VitArchitecture {
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
  const { preset, base } = presetOfWeights(file, { C, depth, p }, given);
  const model = presetConfig(preset, { imgSize: grid !== null ? grid * p : base.imgSize }).model;
  return { conv, C, p, depth, pe, tokens, preset, model };
}

/** The encoder in our layout: patch embedding, class token, position embedding, then each block. */
function convertEncoder(t: VitTensors, a: VitArchitecture): void {
  t.patchEmbedding(a.conv, a.p);
  t.copy('patch_embed.proj.bias');
  t.copy('cls_token', [1, 1, a.C]);
  if (a.pe) t.put('pos_embed', a.pe, [1, a.tokens! + 1, a.C], a.pe.values());
  for (let i = 0; i < a.depth; i++) {
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
      t.copy(`blocks.${i}.${n}`);
    for (const n of ['attn.qkv.weight', 'attn.proj.weight', 'mlp.fc1.weight', 'mlp.fc2.weight'])
      t.linearT(`blocks.${i}.${n}`);
  }
}

/**
 * The classifier's head: fc_norm over the mean of the patch tokens, then the head (models_vit.py
 * with global_pool, as ours), with as many outputs as `head` names classes. Returns that count.
 */
function convertHead(
  file: string,
  sd: Map<string, TorchTensor>,
  t: VitTensors,
  C: number,
  names: string[],
  need: NeedTensor,
): number {
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
  if (K !== names.length)
    throw new UserError(
      `${file}: its head has ${K} output(s); --head names ${names.length} class(es) (${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''})`,
      2,
      'head',
    );
  t.copy('fc_norm.weight');
  t.copy('fc_norm.bias');
  t.linearT('head.weight');
  t.copy('head.bias');
  return K;
}

/** Weights of a run that diverged are NaN or infinite: an encoder of them computes nothing. */
function refuseNonFinite(file: string, tensors: NamedArray[]): void {
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
}

export async function importVit(
  file: string,
  out: string,
  o: { teacher?: boolean; preset?: PresetName; head?: { task: Task; names: string[] } } = {},
): Promise<ImportReport> {
  const f = await readWeightsFile(file).catch((e: unknown) => {
    throw new UserError((e as Error).message, 2, 'file');
  });
  const sd = encoderStateDict(stateDictOf(f.root), o.teacher);
  const need = needIn(sd, file, o.teacher);
  const a = readArchitecture(file, sd, need, o.preset);
  const { model } = a;
  const t = new VitTensors(file, need, a.C, Math.round(a.C * model.mlpRatio), o.head ? o.head.names.length : 0);
  convertEncoder(t, a);
  const source = { file: basename(file), format: 'pytorch', which: o.teacher ? 'teacher (mm_*)' : 'online' };
  let encoded: { bytes: Buffer; sha256: string };
  if (o.head) {
    const K = convertHead(file, sd, t, a.C, o.head.names, need);
    const state = {
      kind: CLASSIFIER_FORMAT,
      task: o.head.task,
      names: o.head.names,
      spec: { model, outputs: K, dropPath: 0 },
      img_size: model.imgSize,
      normalisation: { name: 'imagenet', mean: IMAGENET_MEAN, std: IMAGENET_STD },
      source,
    };
    encoded = encodeTensorFile(CLASSIFIER_FORMAT, state, t.tensors);
  } else {
    const state = { kind: 'camd-encoder', model, source, normalisation: { name: 'as its source trained it' } };
    encoded = encodeTensorFile(ENCODER_FORMAT, state, t.tensors);
  }
  refuseNonFinite(file, t.tensors);
  writeFileAtomic(out, encoded.bytes);
  const ignored = [...sd.keys()].filter((k) => !t.used.has(k));
  return {
    out,
    source: file,
    model,
    preset: a.preset,
    which: o.teacher ? 'teacher' : 'online',
    tensors: t.tensors.length,
    ignored,
    head: o.head ?? null,
    sha256: encoded.sha256,
    bytes: encoded.bytes.length,
  };
}
