// Literal reference values, computed independently of this code and pinned here with their source
// (issue #16): a test that restates the implementation cannot fail on a wrong one; these can.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { relativeEmbedding, sincosTable2d } from '../../trainer/src/model/posembed.js';
import { agmdLoss, denseLoss, globalLoss } from '../../trainer/src/model/losses.js';
import { parseLfwa } from '../../trainer/src/labels/label-files.js';
import { tempDir } from '../support/folders.js';

const close = (got: ArrayLike<number>, want: number[], tol: number) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i]! - w), `element ${i}: ${got[i]} vs ${w}`).toBeLessThanOrEqual(tol));
};

describe('§1.4 position tables (values from Python math.sin/cos of the spec formulas, F = D/4, ω_k = 10000^(−k/F))', () => {
  // Which axis comes first: the row. method.md §1.4: "the first D/2 dims encode the row (sin‖cos) and
  // the last D/2 encode the column" — the released code builds its tables as SiameseIM does, row
  // first. MAE's get_2d_sincos_pos_embed puts the column (its meshgrid's first output, w) first;
  // a table built that way fails the row below.
  it('absolute table, D = 8, G = 3: row of token (r = 1, c = 2) after the cls row', () => {
    const t = sincosTable2d(8, 3);
    close(t.subarray(0, 8), [0, 0, 0, 0, 0, 0, 0, 0], 0); // cls
    const row = 1 + 1 * 3 + 2;
    // [sin(1·ω), cos(1·ω), sin(2·ω), cos(2·ω)] with ω = (1, 0.01)
    close(
      t.subarray(row * 8, row * 8 + 8),
      [0.841470985, 0.009999833, 0.540302306, 0.99995, 0.909297427, 0.019998667, -0.416146837, 0.999800007],
      1e-7,
    );
  });

  it('relative embedding, D = 8, G = 3, δi = 0.1, δj = −0.2, δh = 0.8, δw = 1.25, fδj = 1.3: token (r = 2, c = 1), without and with a flip', () => {
    // g_h = 0.8·2.5 + 0.1·3 − 0.5 = 1.8; g_w = 1.25·1.5 − 0.2·3 − 0.5 = 0.775 (flip: −1.25·1.5 + 1.3·3 − 0.5 = 1.525);
    // s_h = 10·ln 0.8 = −2.2314355, s_w = 10·ln 1.25 = 2.2314355
    const geom = { di: 0.1, dj: -0.2, dh: 0.8, dw: 1.25, fdj: 1.3 };
    const tok = 2 * 3 + 1;
    const plain = relativeEmbedding([{ ...geom, flip: false }], 8, 3);
    close(
      plain.subarray(tok * 16, tok * 16 + 16),
      [
        0.973847631, 0.017999028, -0.227202095, 0.999838004, 0.699716075, 0.007749922, 0.714421034, 0.999969969,
        -0.789600174, -0.022312503, -0.613621679, 0.999751045, 0.789600174, 0.022312503, -0.613621679, 0.999751045,
      ],
      1e-7,
    );
    const flipped = relativeEmbedding([{ ...geom, flip: true }], 8, 3);
    close(
      flipped.subarray(tok * 16, tok * 16 + 16),
      [
        0.973847631, 0.017999028, -0.227202095, 0.999838004, 0.998951531, 0.015249409, 0.04578032, 0.999883721,
        -0.789600174, -0.022312503, -0.613621679, 0.999751045, 0.789600174, 0.022312503, -0.613621679, 0.999751045,
      ],
      1e-7,
    );
  });
});

describe('§3 loss values on a fixed tiny input (reference: PyTorch float64, formulas of method.md §3 written out separately)', () => {
  // pred[b,n,d] = sin(1 + 12b + 4n + d), target = cos(0.5·(1 + 12b + 4n + d)), B = 2, N = 3, D = 4, λ = 0.02.
  // AGMD: local[b,v,c] = sin(0.3·(8b + 4v + c)) (B = 2, V = 2, C = 4), global[b,n,c] = cos(0.7·(12b + 4n + c)),
  // 2 heads, k = 2; W_i (in, out) = 0.5·sin(4·in + out + i), bias_i = 0.1·cos(out + i) for q, k, v, out = 1, 2, 3, 4.
  const DENSE = 1.6190502376646054;
  const GLOBAL = 0.9517261816895178;
  const AGMD = 0.2981318283426234;
  it.each(['cpu', 'wasm'] as const)(
    '%s: dense, global and AGMD equal the reference within float32 rounding',
    async (backend) => {
      await selectBackend(backend);
      const out = tf.tidy(() => {
        const idx = tf.range(0, 24).reshape([2, 3, 4]);
        const pred = idx.add(1).sin() as tf.Tensor3D;
        const target = idx.add(1).mul(0.5).cos() as tf.Tensor3D;
        const local = tf.range(0, 16).mul(0.3).sin().reshape([2, 2, 4]) as tf.Tensor3D;
        const global = tf.range(0, 24).mul(0.7).cos().reshape([2, 3, 4]) as tf.Tensor3D;
        const W = (i: number) => tf.range(0, 16).add(i).sin().mul(0.5).reshape([4, 4]);
        const b = (i: number) => tf.range(0, 4).add(i).cos().mul(0.1);
        const names: Record<string, tf.Tensor> = {};
        ['q_proj', 'k_proj', 'v_proj', 'out_proj'].forEach((n, j) => {
          names[`multihead_attention_topk.${n}.weight`] = W(j + 1);
          names[`multihead_attention_topk.${n}.bias`] = b(j + 1);
        });
        return [
          denseLoss(pred, target, 0.02),
          globalLoss(pred, target, 0.02),
          agmdLoss([local], [global], (n) => names[n]!, 2, 2),
        ].map((t) => t.dataSync()[0]!);
      });
      expect(Math.abs(out[0]! - DENSE) / DENSE).toBeLessThanOrEqual(2e-6);
      expect(Math.abs(out[1]! - GLOBAL) / GLOBAL).toBeLessThanOrEqual(2e-6);
      expect(Math.abs(out[2]! - AGMD) / AGMD).toBeLessThanOrEqual(2e-6);
    },
  );
});

/** The 73 attribute columns of LFW's lfw_attributes.txt (Kumar et al.), in file order: a1 … a73. */
const LFW_73 = [
  'Male',
  'Asian',
  'White',
  'Black',
  'Baby',
  'Child',
  'Youth',
  'Middle Aged',
  'Senior',
  'Black Hair',
  'Blond Hair',
  'Brown Hair',
  'Bald',
  'No Eyewear',
  'Eyeglasses',
  'Sunglasses',
  'Mustache',
  'Smiling',
  'Frowning',
  'Chubby',
  'Blurry',
  'Harsh Lighting',
  'Flash',
  'Soft Lighting',
  'Outdoor',
  'Curly Hair',
  'Wavy Hair',
  'Straight Hair',
  'Receding Hairline',
  'Bangs',
  'Sideburns',
  'Fully Visible Forehead',
  'Partially Visible Forehead',
  'Obstructed Forehead',
  'Bushy Eyebrows',
  'Arched Eyebrows',
  'Narrow Eyes',
  'Eyes Open',
  'Big Nose',
  'Pointy Nose',
  'Big Lips',
  'Mouth Closed',
  'Mouth Slightly Open',
  'Mouth Wide Open',
  'Teeth Not Visible',
  'No Beard',
  'Goatee',
  'Round Jaw',
  'Double Chin',
  'Wearing Hat',
  'Oval Face',
  'Square Face',
  'Round Face',
  'Color Photo',
  'Posed Photo',
  'Attractive Man',
  'Attractive Woman',
  'Indian',
  'Gray Hair',
  'Bags Under Eyes',
  'Heavy Makeup',
  'Rosy Cheeks',
  'Shiny Skin',
  'Pale Skin',
  "5 o' Clock Shadow",
  'Strong Nose-Mouth Lines',
  'Wearing Lipstick',
  'Flushed Face',
  'High Cheekbones',
  'Brown Eyes',
  'Wearing Earrings',
  'Wearing Necktie',
  'Wearing Necklace',
];

/** CelebA's 40 attributes in their file order, each with the LFW attribute it is read from (method.md §5). */
const CELEBA_FROM_LFW: [string, string][] = [
  ['5_o_Clock_Shadow', "5 o' Clock Shadow"],
  ['Arched_Eyebrows', 'Arched Eyebrows'],
  ['Attractive', 'Attractive Man'],
  ['Bags_Under_Eyes', 'Bags Under Eyes'],
  ['Bald', 'Bald'],
  ['Bangs', 'Bangs'],
  ['Big_Lips', 'Big Lips'],
  ['Big_Nose', 'Big Nose'],
  ['Black_Hair', 'Black Hair'],
  ['Blond_Hair', 'Blond Hair'],
  ['Blurry', 'Blurry'],
  ['Brown_Hair', 'Brown Hair'],
  ['Bushy_Eyebrows', 'Bushy Eyebrows'],
  ['Chubby', 'Chubby'],
  ['Double_Chin', 'Double Chin'],
  ['Eyeglasses', 'Eyeglasses'],
  ['Goatee', 'Goatee'],
  ['Gray_Hair', 'Gray Hair'],
  ['Heavy_Makeup', 'Heavy Makeup'],
  ['High_Cheekbones', 'High Cheekbones'],
  ['Male', 'Male'],
  ['Mouth_Slightly_Open', 'Mouth Slightly Open'],
  ['Mustache', 'Mustache'],
  ['Narrow_Eyes', 'Narrow Eyes'],
  ['No_Beard', 'No Beard'],
  ['Oval_Face', 'Oval Face'],
  ['Pale_Skin', 'Pale Skin'],
  ['Pointy_Nose', 'Pointy Nose'],
  ['Receding_Hairline', 'Receding Hairline'],
  ['Rosy_Cheeks', 'Rosy Cheeks'],
  ['Sideburns', 'Sideburns'],
  ['Smiling', 'Smiling'],
  ['Straight_Hair', 'Straight Hair'],
  ['Wavy_Hair', 'Wavy Hair'],
  ['Wearing_Earrings', 'Wearing Earrings'],
  ['Wearing_Hat', 'Wearing Hat'],
  ['Wearing_Lipstick', 'Wearing Lipstick'],
  ['Wearing_Necklace', 'Wearing Necklace'],
  ['Wearing_Necktie', 'Wearing Necktie'],
  ['Young', 'Youth'],
];

describe('LFWA → CelebA attributes (method.md §5; the table above, by name)', () => {
  it('each CelebA attribute reads its LFW column, and Attractive also Attractive Woman (score ≥ 0, as released)', () => {
    expect(LFW_73.length).toBe(73);
    const root = tempDir('lfw-map');
    mkdirSync(root, { recursive: true });
    // one image per CelebA attribute: its LFW column +1, every other column −1
    const rows = CELEBA_FROM_LFW.map(([, lfw], i) => {
      const scores = LFW_73.map((n) => (n === lfw ? 1 : -1));
      return `Person ${i}\t1\t${scores.join('\t')}`;
    });
    // and one where only Attractive Woman is positive, one where it is exactly 0 (the release binarises
    // first, score ≥ 0 → 1, then tests it: FAR_datasets/LFWA.py:189-195)
    rows.push(`Someone Else\t1\t${LFW_73.map((n) => (n === 'Attractive Woman' ? 1 : -1)).join('\t')}`);
    rows.push(`Exactly Zero\t1\t${LFW_73.map((n) => (n === 'Attractive Woman' ? 0 : -1)).join('\t')}`);
    writeFileSync(
      join(root, 'lfw_attributes.txt'),
      `# LFW attributes\n#\tperson\timagenum\t${LFW_73.join('\t')}\n${rows.join('\n')}\n`,
    );
    const set = parseLfwa(root, 'lfwa-release');
    expect(set.names).toEqual(CELEBA_FROM_LFW.map(([c]) => c));
    const byPath = new Map(set.items.map((it) => [it.path, it.labels]));
    CELEBA_FROM_LFW.forEach(([celeba], i) => {
      const labels = byPath.get(`lfw/Person_${i}/Person_${i}_0001.jpg`)!;
      expect(labels.map((v, j) => (v ? set.names[j] : null)).filter(Boolean), celeba).toEqual([celeba]);
    });
    expect(
      byPath
        .get('lfw/Someone_Else/Someone_Else_0001.jpg')!
        .map((v, j) => (v ? set.names[j] : null))
        .filter(Boolean),
    ).toEqual(['Attractive']);
    expect(
      byPath
        .get('lfw/Exactly_Zero/Exactly_Zero_0001.jpg')!
        .map((v, j) => (v ? set.names[j] : null))
        .filter(Boolean),
    ).toEqual(['Attractive']);
  });
});
