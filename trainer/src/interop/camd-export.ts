/**
 * Our pre-training checkpoint in the released layout (`models_CAMD.py`'s `state_dict()`), so that
 * `model.load_state_dict(sd, strict=True)` takes it: `{'model': state_dict, 'epoch': E}`.
 * Differences from our names (tests/support/released-camd-base-keys.txt is the reference):
 * projector/predictor norms are `…normK.bn.{weight,bias}` with BatchNorm buffers (`running_mean`
 * 0, `running_var` 1, `num_batches_tracked` 0: CAMD trains them on batch statistics only), AGMD is
 * `query/key/value/fc_out`, the fixed sin-cos tables `pos_embed` and `decoder_pos_embed` are part
 * of the state dict; Linear weights (in, out) → (out, in); the patch embedding → a conv.
 */
import type { CamdConfig } from '../model/config.js';
import { sincosTable2d } from '../model/posembed.js';
import type { NamedArray } from '../train/checkpoint.js';
import type { TorchValue } from './torch-write.js';

const AGMD: Record<string, string> = { q_proj: 'query', k_proj: 'key', v_proj: 'value', out_proj: 'fc_out' };

/** The released name of one of our parameters. */
export function releasedName(ours: string): string {
  return ours
    .replace(/^(mm_)?(projector|predictor)_decoder_blocks\.(\d+)\.(norm[12])\.(weight|bias)$/, '$1$2_decoder_blocks.$3.$4.bn.$5')
    .replace(/^multihead_attention_topk\.(q_proj|k_proj|v_proj|out_proj)\./, (_, p: string) => `multihead_attention_topk.${AGMD[p]}.`);
}

export function releasedStateDict(params: readonly NamedArray[], cfg: CamdConfig): Map<string, TorchValue> {
  const m = cfg.model;
  const grid = m.imgSize / m.patchSize;
  const N = grid * grid;
  const sd = new Map<string, TorchValue>();
  const vec = (n: number, v: number) => ({ shape: [n], data: new Float32Array(n).fill(v) });
  for (const t of params) {
    const base = t.name.startsWith('mm_') ? t.name.slice(3) : t.name;
    const name = releasedName(t.name);
    if (base === 'patch_embed.proj.weight') {
      const C = t.shape[1]!;
      const p = m.patchSize;
      const conv = new Float32Array(C * 3 * p * p);
      for (let ky = 0; ky < p; ky++) for (let kx = 0; kx < p; kx++) for (let c = 0; c < 3; c++) for (let o = 0; o < C; o++) conv[((o * 3 + c) * p + ky) * p + kx] = t.data[((ky * p + kx) * 3 + c) * C + o]!;
      sd.set(name, { shape: [C, 3, p, p], data: conv });
    } else if (base.endsWith('.weight') && t.shape.length === 2 && !/\.norm[12]\./.test(base)) {
      const [r, c] = t.shape as [number, number];
      const out = new Float32Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j]!;
      sd.set(name, { shape: [c, r], data: out });
    } else if (base === 'cls_token' || base === 'mask_token') {
      sd.set(name, { shape: [1, 1, t.data.length], data: t.data });
    } else sd.set(name, { shape: t.shape, data: t.data });
    const bn = /^(.*\.norm[12])\.bn\.weight$/.exec(name);
    if (bn) {
      const dim = t.data.length;
      sd.set(`${bn[1]}.bn.running_mean`, vec(dim, 0));
      sd.set(`${bn[1]}.bn.running_var`, vec(dim, 1));
      sd.set(`${bn[1]}.bn.num_batches_tracked`, { shape: [], int64: [0] });
    }
  }
  sd.set('pos_embed', { shape: [1, N + 1, m.embedDim], data: sincosTable2d(m.embedDim, grid) });
  sd.set('decoder_pos_embed', { shape: [1, N + 1, m.decoderDim], data: sincosTable2d(m.decoderDim, grid) });
  return sd;
}
