/**
 * The released CAMD code's pre-training checkpoint layout (`models_CAMD.py`'s `state_dict()`, and
 * the `optimizer` of `CAMD_pretrain.py`'s AdamW), both ways: ours → released for
 * `camd export --format camd-pth` and `camd cluster-pack`, released → ours for
 * `camd pretrain --continue/--init`. tests/support/released-camd-base-keys.txt is the reference.
 *
 * Differences from our names and layouts:
 *  - projector/predictor norms are `…normK.bn.{weight,bias}` with BatchNorm buffers (`running_mean`
 *    0, `running_var` 1, `num_batches_tracked` 0 on export: CAMD trains them on batch statistics
 *    only; ignored on import);
 *  - AGMD is `query/key/value/fc_out` (ours `q_proj/k_proj/v_proj/out_proj`);
 *  - the fixed sin-cos tables `pos_embed` and `decoder_pos_embed` are part of the state dict (ours
 *    computes them from the image size);
 *  - Linear weights are (out, in) (ours (in, out)); the patch embedding is a conv (C, 3, p, p) (ours
 *    (p·p·3, C), rows ordered row, column, channel).
 *
 * The optimiser: `param_groups_weight_decay(model, wd)` (timm) puts every parameter that requires
 * a gradient, in `named_parameters()` order, into no-decay (ndim ≤ 1 or `.bias`) then decay, and
 * AdamW's `state_dict()` numbers them 0, 1, … across the two groups in that order. Parameters that
 * require no gradient: the sin-cos tables, the patch embedding (without `--train_patch_embed`, as
 * ours: §4) and every `mm_*` (the teacher, §2.1) — exactly our non-`online` roles.
 */
import { z } from 'zod';
import { parseConfig, type CamdConfig, type ModelConfig } from '../model/config.js';
import { absoluteLr, learningRateAt } from '../optim/schedule.js';
import { sincosTable2d } from '../model/posembed.js';
import { OPT_M, OPT_V, type NamedArray, type TensorFile } from '../store/checkpoint.js';
import { decays } from '../optim/weight-decay.js';
import type { PickleValue, TorchValue } from './torch-write.js';
import { flattenTensors, type TorchTensor } from './torch-file.js';
import { PyObject } from './pickle.js';
import { releasedArgs, releasedFlags, type FlagValue, type ReleasedRun } from './released-args.js';

const AGMD: Record<string, string> = { q_proj: 'query', k_proj: 'key', v_proj: 'value', out_proj: 'fc_out' };
const AGMD_BACK: Record<string, string> = Object.fromEntries(Object.entries(AGMD).map(([a, b]) => [b, a]));
const BUFFER = /\.(running_mean|running_var|num_batches_tracked)$/;
const POS_TABLES = new Set(['pos_embed', 'decoder_pos_embed']);

/** The released name of one of our parameters. */
export function releasedName(ours: string): string {
  return ours
    .replace(
      /^(mm_)?(projector|predictor)_decoder_blocks\.(\d+)\.(norm[12])\.(weight|bias)$/,
      '$1$2_decoder_blocks.$3.$4.bn.$5',
    )
    .replace(
      /^multihead_attention_topk\.(q_proj|k_proj|v_proj|out_proj)\./,
      (_, p: string) => `multihead_attention_topk.${AGMD[p]}.`,
    );
}

/** Our name of a released parameter; null for what we do not keep (BatchNorm buffers, the sin-cos tables). */
export function oursName(released: string): string | null {
  if (BUFFER.test(released) || POS_TABLES.has(released)) return null;
  return released
    .replace(/\.(norm[12])\.bn\.(weight|bias)$/, '.$1.$2')
    .replace(
      /^multihead_attention_topk\.(query|key|value|fc_out)\./,
      (_, p: string) => `multihead_attention_topk.${AGMD_BACK[p]}.`,
    );
}

const baseOf = (name: string) => (name.startsWith('mm_') ? name.slice(3) : name);
const isLinearWeight = (base: string, rank: number) =>
  base.endsWith('.weight') && rank === 2 && !/\.norm[12]\./.test(base);

function transpose(rows: number, cols: number, data: Float32Array): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}

/** One of our tensors (a parameter or its AdamW moment) in the released layout. */
function toReleased(
  ours: string,
  shape: readonly number[],
  data: Float32Array,
  m: ModelConfig,
): { shape: number[]; data: Float32Array } {
  const base = baseOf(ours);
  if (base === 'patch_embed.proj.weight') {
    const C = shape[1]!;
    const p = m.patchSize;
    const conv = new Float32Array(C * 3 * p * p);
    for (let ky = 0; ky < p; ky++)
      for (let kx = 0; kx < p; kx++)
        for (let c = 0; c < 3; c++)
          for (let o = 0; o < C; o++) conv[((o * 3 + c) * p + ky) * p + kx] = data[((ky * p + kx) * 3 + c) * C + o]!;
    return { shape: [C, 3, p, p], data: conv };
  }
  if (isLinearWeight(base, shape.length))
    return { shape: [shape[1]!, shape[0]!], data: transpose(shape[0]!, shape[1]!, data) };
  return { shape: [...shape], data };
}

/** A released tensor (a parameter or its AdamW moment) in our layout. */
function toOurs(
  released: string,
  shape: readonly number[],
  data: Float32Array,
): { shape: number[]; data: Float32Array } {
  const base = baseOf(released);
  if (base === 'patch_embed.proj.weight' && shape.length === 4) {
    const [C, c3, p] = shape as [number, number, number, number];
    const out = new Float32Array(p * p * c3 * C);
    for (let o = 0; o < C; o++)
      for (let c = 0; c < c3; c++)
        for (let i = 0; i < p; i++)
          for (let j = 0; j < p; j++) out[((i * p + j) * c3 + c) * C + o] = data[((o * c3 + c) * p + i) * p + j]!;
    return { shape: [p * p * c3, C], data: out };
  }
  if (isLinearWeight(base, shape.length))
    return { shape: [shape[1]!, shape[0]!], data: transpose(shape[0]!, shape[1]!, data) };
  return { shape: [...shape], data };
}

// ---- the order of models_CAMD.py's state_dict() (module registration order) ----

const TOP = [
  'cls_token',
  'pos_embed',
  'mask_token',
  'decoder_pos_embed',
  'mm_cls_token',
  'mm_mask_token',
  'multihead_attention_topk',
  'patch_embed',
  'blocks',
  'decoder_embed',
  'projector_decoder_blocks',
  'predictor_decoder_blocks',
  'decoder_pred',
  'decoder_pos_mlp',
  'mm_patch_embed',
  'mm_blocks',
  'mm_decoder_embed',
  'mm_projector_decoder_blocks',
];
const norm = (n: string) => [
  `${n}.weight`,
  `${n}.bias`,
  `${n}.bn.weight`,
  `${n}.bn.bias`,
  `${n}.bn.running_mean`,
  `${n}.bn.running_var`,
  `${n}.bn.num_batches_tracked`,
];
const wb = (n: string) => [`${n}.weight`, `${n}.bias`];
const SUB = [
  ...wb('proj'),
  ...wb('query'),
  ...wb('key'),
  ...wb('value'),
  ...wb('fc_out'),
  ...norm('norm1'),
  ...wb('attn.qkv'),
  ...wb('attn.proj'),
  ...norm('norm2'),
  ...wb('mlp.fc1'),
  ...wb('mlp.fc2'),
  'weight',
  'bias',
  '',
];

function orderKey(name: string): [number, number, number] {
  const dot = name.indexOf('.');
  const top = dot < 0 ? name : name.slice(0, dot);
  let rest = dot < 0 ? '' : name.slice(dot + 1);
  let block = -1;
  const b = /^(\d+)\.(.*)$/.exec(rest);
  if (b) {
    block = Number(b[1]);
    rest = b[2]!;
  }
  const t = TOP.indexOf(top);
  const s = SUB.indexOf(rest);
  return [t < 0 ? TOP.length : t, block, s < 0 ? SUB.length : s];
}

/** Released names in the order `state_dict()` and `named_parameters()` give them. */
export function releasedOrder(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => {
    const [x, y] = [orderKey(a), orderKey(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || (a < b ? -1 : a > b ? 1 : 0);
  });
}

/** The released model's state dict from our parameters (`params`: names of a camd checkpoint; moments are skipped). */
export function releasedStateDict(params: readonly NamedArray[], cfg: CamdConfig): Map<string, TorchValue> {
  const m = cfg.model;
  const grid = m.imgSize / m.patchSize;
  const N = grid * grid;
  const entries = new Map<string, TorchValue>();
  const vec = (n: number, v: number) => ({ shape: [n], data: new Float32Array(n).fill(v) });
  for (const t of params) {
    if (t.name.startsWith(OPT_M) || t.name.startsWith(OPT_V)) continue;
    const name = releasedName(t.name);
    entries.set(name, toReleased(t.name, t.shape, t.data, m));
    const bn = /^(.*\.norm[12])\.bn\.weight$/.exec(name);
    if (bn) {
      const dim = t.data.length;
      entries.set(`${bn[1]}.bn.running_mean`, vec(dim, 0));
      entries.set(`${bn[1]}.bn.running_var`, vec(dim, 1));
      entries.set(`${bn[1]}.bn.num_batches_tracked`, { shape: [], int64: [0] });
    }
  }
  entries.set('pos_embed', { shape: [1, N + 1, m.embedDim], data: sincosTable2d(m.embedDim, grid) });
  entries.set('decoder_pos_embed', { shape: [1, N + 1, m.decoderDim], data: sincosTable2d(m.decoderDim, grid) });
  return new Map(releasedOrder(entries.keys()).map((k) => [k, entries.get(k)!]));
}

/** Whether the released training optimises a parameter (what `param.requires_grad` is there). */
function releasedTrainable(name: string, trainPatchEmbed: boolean): boolean {
  if (name.startsWith('mm_') || POS_TABLES.has(name) || BUFFER.test(name)) return false;
  return trainPatchEmbed || !name.startsWith('patch_embed.');
}

/** The released optimiser's parameters as AdamW numbers them: [no-decay…, decay…], released names with their shapes. */
function releasedGroups(shapes: Map<string, readonly number[]>, trainPatchEmbed: boolean): [string[], string[]] {
  const trainable = releasedOrder(shapes.keys()).filter((n) => releasedTrainable(n, trainPatchEmbed));
  const decayed = (n: string) => decays(n, shapes.get(n)!);
  return [trainable.filter((n) => !decayed(n)), trainable.filter(decayed)];
}

/**
 * Our AdamW state as `torch.optim.AdamW.state_dict()` of the released training: `{'state': {i:
 * {'step', 'exp_avg', 'exp_avg_sq'}}, 'param_groups': [no-decay, decay]}`; `lr` is the rate of the
 * next step (the released script sets it again at every iteration).
 */
export function releasedOptimizer(
  tensors: readonly NamedArray[],
  optimizerStep: number,
  lr: number,
  cfg: CamdConfig,
): PickleValue {
  const m = cfg.model;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const shapes = new Map<string, readonly number[]>();
  const ours = new Map<string, NamedArray>();
  for (const t of tensors) {
    if (t.name.startsWith(OPT_M) || t.name.startsWith(OPT_V)) continue;
    const r = releasedName(t.name);
    shapes.set(r, toReleased(t.name, t.shape, new Float32Array(t.data.length), m).shape);
    ours.set(r, t);
  }
  const [noDecay, decay] = releasedGroups(shapes, m.trainPatchEmbed);
  const state = new Map<number, PickleValue>();
  [...noDecay, ...decay].forEach((r, i) => {
    const t = ours.get(r)!;
    const mm = byName.get(OPT_M + t.name);
    const vv = byName.get(OPT_V + t.name);
    if (!mm || !vv || optimizerStep === 0) return; // torch keeps no state for a parameter never stepped
    state.set(
      i,
      new Map<string, PickleValue>([
        ['step', { shape: [], data: Float32Array.of(optimizerStep) }],
        ['exp_avg', toReleased(t.name, mm.shape, mm.data, m)],
        ['exp_avg_sq', toReleased(t.name, vv.shape, vv.data, m)],
      ]),
    );
  });
  const o = cfg.optim;
  const group = (weightDecay: number, first: number, count: number): PickleValue =>
    new Map<string, PickleValue>([
      ['lr', lr],
      ['betas', [o.beta1, o.beta2]],
      ['eps', o.eps],
      ['weight_decay', weightDecay],
      ['amsgrad', false],
      ['maximize', false],
      ['foreach', null],
      ['capturable', false],
      ['differentiable', false],
      ['fused', null],
      ['decoupled_weight_decay', true],
      ['params', Array.from({ length: count }, (_, i) => first + i)],
    ]);
  return new Map<string, PickleValue>([
    ['state', state],
    ['param_groups', [group(0, 0, noDecay.length), group(o.weightDecay, noDecay.length, decay.length)]],
  ]);
}

const CheckpointState = z.object({
  step: z.number().int().nonnegative(),
  optimizer_step: z.number().int().nonnegative(),
  schedule: z.object({
    epochs: z.number().positive(),
    itersPerEpoch: z.number().int().positive(),
    batchSize: z.number().int().positive(),
  }),
  config: z.unknown(),
  settings: z
    .object({ preset: z.string(), imgSize: z.number().int(), seed: z.number().int(), warmupEpochs: z.number() })
    .passthrough()
    .optional(),
});

/** The run one of our checkpoints records, on one GPU; its epochs and warm-up as they are (they may be fractional: these args are read back, not parsed by argparse). */
function releasedRunOf(st: z.infer<typeof CheckpointState>, cfg: CamdConfig): ReleasedRun {
  const preset = (st.settings?.preset ?? cfg.preset ?? 'base') as ReleasedRun['preset'];
  return {
    preset,
    imgSize: st.settings?.imgSize ?? cfg.model.imgSize,
    batchPerGpu: st.schedule.batchSize,
    gpus: 1,
    epochs: st.schedule.epochs,
    warmupEpochs: st.settings?.warmupEpochs ?? cfg.optim.warmupEpochs,
    seed: st.settings?.seed ?? 0,
  };
}

/**
 * One of our pre-training checkpoints as the released `CAMD_pretrain.py --resume` (and its
 * auto-resume from `--output_dir`) reads it: `{'model', 'optimizer', 'epoch'}`. The released
 * scripts continue at `epoch + 1`, so `epoch` is the last epoch the run completed (−1 before the
 * first: the cluster run then starts at epoch 0 with these weights and moments); steps into an
 * unfinished epoch are not counted there. `args` holds the run's settings as the released flags
 * (released-args.ts: a dict, so `torch.load(weights_only=True)` reads the file; `camd import-run`
 * and `--continue` read the epochs, warm-up and every setting from it): the flags of the box when
 * `opts.args` gives them (cluster-pack), else the run's own on one GPU. No `scaler` (the cluster's
 * loss scaler starts afresh).
 */
export function releasedCheckpoint(
  ck: TensorFile,
  what: string,
  opts: { args?: Record<string, FlagValue> } = {},
): {
  value: Map<string, PickleValue>;
  step: number;
  epoch: number;
  stepsIntoEpoch: number;
  cfg: CamdConfig;
  args: Record<string, FlagValue>;
} {
  const r = CheckpointState.safeParse(ck.state);
  if (!r.success)
    throw new Error(`${what}: its state has no step, schedule or configuration (written by another version?)`);
  const st = r.data;
  const cfg = parseConfig(st.config);
  const tensors = [...ck.tensors.values()];
  const ipe = st.schedule.itersPerEpoch;
  const epoch = Math.floor(st.step / ipe) - 1;
  const o = cfg.optim;
  const lr = learningRateAt(
    st.step / ipe,
    absoluteLr(o.blr, st.schedule.batchSize),
    o.warmupEpochs,
    st.schedule.epochs,
    o.minLr,
  );
  const run = releasedRunOf(st, cfg);
  const args = opts.args ?? releasedArgs(releasedFlags(cfg, run), run);
  const value = new Map<string, PickleValue>([
    ['model', releasedStateDict(tensors, cfg) as Map<string, PickleValue>],
    ['optimizer', releasedOptimizer(tensors, st.optimizer_step, lr, cfg)],
    ['epoch', epoch],
    ['args', args as PickleValue],
  ]);
  return { value, step: st.step, epoch, stepsIntoEpoch: st.step - (epoch + 1) * ipe, cfg, args };
}

// ---- released → ours ----

/** The architecture a released pre-training state dict has, read from its shapes. */
export interface ReleasedArch {
  embedDim: number;
  depth: number;
  patchSize: number;
  /** From pos_embed's rows; null when the file has no pos_embed. */
  imgSize: number | null;
  decoderDim: number;
  projectorDepth: number;
  predictorDepth: number;
}

export interface ReleasedCheckpoint {
  /** Our parameters, and our AdamW moments (`optim.m/…`, `optim.v/…`) when the optimiser state maps onto them. */
  tensors: Map<string, NamedArray>;
  arch: ReleasedArch;
  /** The last completed epoch (0-based, as the released scripts count), or null. */
  epoch: number | null;
  /** AdamW's step count, when its state was mapped. */
  optimizerStep: number | null;
  /** Why the optimiser state was not used (absent, or what did not match); null when it was. */
  optimizerNote: string | null;
  /** `args` (an argparse.Namespace, or a dict as our exports write it) as plain values, when the file has them. */
  args: Record<string, unknown> | null;
  /** Released tensors not used (BatchNorm buffers and the sin-cos tables are expected here). */
  ignored: string[];
}

const isTensor = (v: unknown): v is TorchTensor => !!v && typeof v === 'object' && '__tensor' in v;

/**
 * Plain values (numbers, strings, booleans, None, lists of them) of a checkpoint's `args`: the
 * argparse.Namespace the released scripts save, or the dict our exports write (released-args.ts).
 */
export function plainArgs(a: unknown): Record<string, unknown> | null {
  const entries =
    a instanceof PyObject && a.type === 'argparse.Namespace'
      ? Object.entries(a.state)
      : a instanceof Map && [...a.keys()].every((k) => typeof k === 'string')
        ? ([...a] as [string, unknown][])
        : null;
  if (!entries) return null;
  return Object.fromEntries(
    entries.filter(
      ([, v]) =>
        v === null ||
        ['string', 'number', 'boolean'].includes(typeof v) ||
        (Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'string')),
    ),
  );
}

/**
 * A released pre-training checkpoint (`{'model', 'optimizer'?, 'epoch'?, 'args'?, 'scaler'?}`, a
 * `module.` prefix allowed) in our names and layouts. Throws one line when it is not one.
 */
export function fromReleased(root: unknown, file: string, trainPatchEmbed = false): ReleasedCheckpoint {
  const top = root instanceof Map ? root : null;
  const model = top?.get('model');
  if (!(model instanceof Map))
    throw new Error(
      `${file} has no 'model' state dict: not a CAMD pre-training checkpoint (CAMD_pretrain.py's checkpoint-*.pth)`,
    );
  const sd = new Map<string, TorchTensor>();
  for (const [k, t] of flattenTensors(model)) sd.set(k.startsWith('module.') ? k.slice(7) : k, t);
  const need = (n: string) => {
    const t = sd.get(n);
    if (!t)
      throw new Error(
        `${file} has no ${n}: not a CAMD pre-training checkpoint${sd.has('head.weight') ? ' (it looks like a fine-tuned classifier: camd import makes an encoder of it)' : ''}`,
      );
    return t;
  };
  const conv = need('patch_embed.proj.weight');
  need('mm_blocks.0.norm1.weight');
  need('decoder_pos_mlp.weight');
  const count = (re: RegExp) =>
    1 +
    Math.max(
      -1,
      ...[...sd.keys()]
        .map((k) => re.exec(k))
        .filter((x): x is RegExpExecArray => x !== null)
        .map((x) => Number(x[1])),
    );
  const pe = sd.get('pos_embed');
  const tokens = pe ? pe.shape[pe.shape.length - 2]! - 1 : null;
  const grid = tokens !== null ? Math.round(Math.sqrt(tokens)) : null;
  const arch: ReleasedArch = {
    embedDim: conv.shape[0]!,
    depth: count(/^blocks\.(\d+)\./),
    patchSize: conv.shape[2]!,
    imgSize: grid !== null && grid * grid === tokens ? grid * conv.shape[2]! : null,
    decoderDim: need('decoder_embed.weight').shape[0]!,
    projectorDepth: count(/^projector_decoder_blocks\.(\d+)\./),
    predictorDepth: count(/^predictor_decoder_blocks\.(\d+)\./),
  };
  const tensors = new Map<string, NamedArray>();
  const ignored: string[] = [];
  for (const [r, t] of sd) {
    const name = oursName(r);
    if (name === null) {
      ignored.push(r);
      continue;
    }
    tensors.set(name, { name, ...toOurs(r, t.shape, t.values()) });
  }

  const epochV = top!.get('epoch');
  const epoch = typeof epochV === 'number' && Number.isInteger(epochV) && epochV >= 0 ? epochV : null;
  const args = plainArgs(top!.get('args'));
  let optimizerStep: number | null = null;
  let optimizerNote: string | null = null;
  const opt = top!.get('optimizer');
  if (!(opt instanceof Map)) optimizerNote = 'the file has no optimiser state';
  else if (epoch === null) optimizerNote = 'the file has optimiser state but no epoch';
  else {
    try {
      const moments = mapOptimizer(opt, sd, trainPatchEmbed);
      for (const t of moments.tensors) tensors.set(t.name, t);
      optimizerStep = moments.step;
    } catch (e) {
      optimizerNote = (e as Error).message;
    }
  }
  return { tensors, arch, epoch, optimizerStep, optimizerNote, args, ignored };
}

/** AdamW's `state_dict()` of the released training → our moments; throws what does not match. */
function mapOptimizer(
  opt: Map<unknown, unknown>,
  sd: Map<string, TorchTensor>,
  trainPatchEmbed: boolean,
): { tensors: NamedArray[]; step: number } {
  const groups = opt.get('param_groups');
  const state = opt.get('state');
  if (!Array.isArray(groups) || !(state instanceof Map))
    throw new Error('its optimiser state is not an AdamW state_dict()');
  const shapes = new Map<string, readonly number[]>([...sd].map(([k, t]) => [k, t.shape]));
  const [noDecay, decay] = releasedGroups(shapes, trainPatchEmbed);
  const ids = groups.map((g) => (g instanceof Map ? g.get('params') : undefined));
  if (ids.length !== 2 || !ids.every(Array.isArray))
    throw new Error(
      `its optimiser has ${ids.length} parameter group(s), the released training has 2 (no decay, decay)`,
    );
  const [a, b] = ids as unknown[][];
  if (a!.length !== noDecay.length || b!.length !== decay.length)
    throw new Error(
      `its optimiser groups hold ${a!.length} + ${b!.length} parameters; this model's trainable parameters are ${noDecay.length} + ${decay.length} (trained with another --train_patch_embed, or another model)`,
    );
  const names = [...noDecay, ...decay];
  const out: NamedArray[] = [];
  let step: number | null = null;
  [...a!, ...b!].forEach((id, i) => {
    const r = names[i]!;
    const s = state.get(id);
    if (s === undefined) return; // never stepped: zero moments, as ours starts
    if (!(s instanceof Map) || !isTensor(s.get('exp_avg')) || !isTensor(s.get('exp_avg_sq')))
      throw new Error(`its optimiser state for ${r} has no exp_avg/exp_avg_sq`);
    const shape = sd.get(r)!.shape;
    for (const k of ['exp_avg', 'exp_avg_sq'] as const) {
      const t = s.get(k) as TorchTensor;
      if (t.shape.join() !== shape.join())
        throw new Error(`its optimiser's ${k} for ${r} has shape [${t.shape}], the parameter [${shape}]`);
      const name = oursName(r)!;
      out.push({ name: (k === 'exp_avg' ? OPT_M : OPT_V) + name, ...toOurs(r, t.shape, t.values()) });
    }
    const st = s.get('step');
    const n = isTensor(st) ? st.values()[0]! : typeof st === 'number' ? st : NaN;
    if (!Number.isFinite(n)) throw new Error(`its optimiser state for ${r} has no step count`);
    step = Math.max(step ?? 0, Math.round(n));
  });
  return { tensors: out, step: step ?? 0 };
}
