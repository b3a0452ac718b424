// camd cluster-pack: a local run's setup as the released code's torchrun line, and its images as
// the released loader reads them.
import { describe, expect, it } from 'vitest';
import { lstatSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { faceFolder, tempDir } from '../support/folders.js';
import { camd } from '../support/cli.js';

describe('camd cluster-pack', () => {
  it('run.sh carries the run\'s settings as the released flags; data/train/faces holds its images; what does not carry over is said', () => {
    const data = faceFolder(10, 'pack-faces');
    const db = join(tempDir('db'), 'camd.db');
    const run = join(tempDir('run'), 'pre');
    const r = camd(['pretrain', '--json', '--data', data, '--preset', 'micro', '--batch', '4', '--steps', '6', '--mask-ratio', '0.5', '--blr', '2e-4', '--warmup-epochs', '1', '--seed', '3', '--out', run, '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    const out = join(tempDir('pack'), 'box');
    const p = camd(['cluster-pack', run, '--out', out, '--gpus', '2', '--json']);
    expect(p.status, p.stderr).toBe(0);
    const rep = p.events.at(-1) as unknown as { images: number; model: string; notes: string[]; flags: Record<string, unknown> };
    expect(rep.images).toBe(10);
    expect(rep.model).toBe('CAMD_vit_base_patch16');
    expect(rep.notes).toEqual([
      'the run is micro; the released code defines base, large and huge only: packed as base (--preset large or huge for more)',
      'the run was 6 steps of 2 a epoch: 3 epochs',
    ]);
    // ViT-B/16 at 224 px: 196 patches, half masked; the batch of 4 split over 2 GPUs
    expect(rep.flags).toMatchObject({ input_size: 224, batch_size: 2, epochs: 3, warmup_epochs: 1, blr: 2e-4, blockwise_num_masking_patches: 98, seed: 3, dis_lay: [2, 5, 8, 11], select_top_k: 2, xi_1: 1, xi_2: 0.25, beta_dis: 0.1, neg_weight: 0.02, mm: 0.995, mmschedule: 'cosine' });
    const sh = readFileSync(join(out, 'run.sh'), 'utf8');
    expect(sh).toContain('torchrun --nproc_per_node=${NUM_GPUS:-2} CAMD_pretrain.py \\\n    --model CAMD_vit_base_patch16 \\\n    --input_size 224');
    expect(sh).toContain('--blockwise_num_masking_patches 98');
    expect(sh).toContain('--dis_lay 2 5 8 11');
    expect(sh).toMatch(/--with_blockwise_mask \\\n/);
    const files = readdirSync(join(out, 'data', 'train', 'faces')).sort();
    expect(files).toEqual(readdirSync(data).sort());
    for (const f of files) {
      expect(lstatSync(join(out, 'data', 'train', 'faces', f)).isSymbolicLink()).toBe(true);
      expect(realpathSync(join(out, 'data', 'train', 'faces', f))).toBe(realpathSync(join(data, f)));
    }
    const copied = join(tempDir('pack'), 'copies');
    expect(camd(['cluster-pack', run, '--out', copied, '--copy', '--preset', 'large']).status).toBe(0);
    const f0 = files[0]!;
    expect(lstatSync(join(copied, 'data', 'train', 'faces', f0)).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(copied, 'data', 'train', 'faces', f0)).equals(readFileSync(join(data, f0)))).toBe(true);
    expect(JSON.parse(readFileSync(join(copied, 'flags.json'), 'utf8')).flags).toMatchObject({ model: 'CAMD_vit_large_patch16', decoder_embed_dim: expect.any(Number), dis_lay: [5, 11, 17, 23] });
    const tiny = camd(['cluster-pack', run, '--out', join(tempDir('pack'), 't'), '--preset', 'tiny']);
    expect(tiny.status).toBe(2);
    expect(tiny.stderr.trim()).toBe('camd: the released models_CAMD.py defines ViT-B/16, ViT-L/16 and ViT-H/14 only: --preset base, large or huge');
  }, 120_000);
});
