// camd cluster-pack: a local run's setup as the released code's torchrun line, and its images as
// the released loader reads them.
import { describe, expect, it } from 'vitest';
import { lstatSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { faceFolder, tempDir } from '../support/folders.js';
import { camd } from '../support/cli.js';
import { flattenTensors, readTorchFile } from '../../trainer/src/interop/torch-file.js';
import { CHECKPOINT_FORMAT, readTensorFile } from '../../trainer/src/train/checkpoint.js';

describe('camd cluster-pack', () => {
  it('run.sh carries the run\'s settings as the released flags; data/train/faces holds its images; its checkpoint resumes there; what does not carry over is said', async () => {
    const data = faceFolder(10, 'pack-faces');
    const db = join(tempDir('db'), 'camd.db');
    const run = join(tempDir('run'), 'pre');
    const r = camd(['pretrain', '--json', '--data', data, '--preset', 'micro', '--batch', '4', '--steps', '6', '--mask-ratio', '0.5', '--blr', '2e-4', '--warmup-epochs', '1', '--seed', '3', '--stop-at', '4', '--out', run, '--db', db]);
    expect(r.status, r.stderr).toBe(0);
    const out = join(tempDir('pack'), 'box');
    const p = camd(['cluster-pack', run, '--out', out, '--gpus', '2', '--json']);
    expect(p.status, p.stderr).toBe(0);
    const rep = p.events.at(-1) as unknown as { images: number; model: string; notes: string[]; flags: Record<string, unknown> };
    expect(rep.images).toBe(10);
    expect(rep.model).toBe('CAMD_vit_base_patch16');
    expect(rep.notes).toEqual([
      'the run is micro; the released code defines base, large and huge only: packed as base (--preset large or huge for more)',
      'the run was 6 steps, 2 an epoch: 3 epochs there',
      'its checkpoint (micro) is not packed: a base model cannot load it; the cluster run starts from scratch',
    ]);
    expect(p.events.at(-1)).toMatchObject({ resume: null });
    // ViT-B/16 at 224 px: 196 patches, half masked; the batch of 4 split over 2 GPUs
    expect(rep.flags).toMatchObject({ input_size: 224, batch_size: 2, epochs: 3, warmup_epochs: 1, blr: 2e-4, blockwise_num_masking_patches: 98, seed: 3, dis_lay: [2, 5, 8, 11], select_top_k: 2, xi_1: 1, xi_2: 0.25, beta_dis: 0.1, neg_weight: 0.02, mm: 0.995, mmschedule: 'cosine' });
    const sh = readFileSync(join(out, 'run.sh'), 'utf8');
    expect(sh).toContain('cd "$(dirname "$0")"\n: "${CAMD_CODE:?set CAMD_CODE to a checkout of github.com/mumumu-wss/CAMD}"\ntorchrun --nproc_per_node=${NUM_GPUS:-2} "$CAMD_CODE/CAMD_pretrain.py" \\\n    --model CAMD_vit_base_patch16 \\\n    --input_size 224');
    // the script runs as written: a shell with a stand-in torchrun (PATH) sees the flags, in the box's folder
    const bin = tempDir('fake-torchrun');
    writeFileSync(join(bin, 'torchrun'), '#!/bin/sh\npwd > torchrun.args\nfor a in "$@"; do echo "$a" >> torchrun.args; done\n', { mode: 0o755 });
    const ran = spawnSync('sh', [join(out, 'run.sh')], { encoding: 'utf8', cwd: tempDir('elsewhere'), env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, CAMD_CODE: '/opt/CAMD', NUM_GPUS: '4' } });
    expect(ran.status, ran.stderr).toBe(0);
    const argv = readFileSync(join(out, 'torchrun.args'), 'utf8').trim().split('\n');
    expect(argv.slice(0, 5)).toEqual([realpathSync(out), '--nproc_per_node=4', '/opt/CAMD/CAMD_pretrain.py', '--model', 'CAMD_vit_base_patch16']);
    expect(argv).toContain('--with_blockwise_mask');
    expect(argv.slice(argv.indexOf('--dis_lay'), argv.indexOf('--dis_lay') + 5)).toEqual(['--dis_lay', '2', '5', '8', '11']);
    const unset = spawnSync('sh', [join(out, 'run.sh')], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, CAMD_CODE: '' } });
    expect(unset.status).not.toBe(0);
    expect(unset.stderr).toMatch(/set CAMD_CODE to a checkout of github\.com\/mumumu-wss\/CAMD/);
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
    // at the run's own size under a model function the user added to models_CAMD.py: the checkpoint goes in the box
    const own = join(tempDir('pack'), 'own');
    const o = camd(['cluster-pack', run, '--out', own, '--model-name', 'CAMD_vit_micro_patch8', '--gpus', '2', '--json']);
    expect(o.status, o.stderr).toBe(0);
    const ownRep = o.events.at(-1) as unknown as { flags: Record<string, unknown>; resume: { step: number; epoch: number; file: string }; notes: string[] };
    expect(ownRep.flags).toMatchObject({ model: 'CAMD_vit_micro_patch8', input_size: 32, decoder_embed_dim: 32, epochs: 3 });
    expect(ownRep.resume).toMatchObject({ step: 4, epoch: 1, file: join(own, 'output', 'checkpoint-latest.pth') });
    expect(ownRep.notes).toContain('output/checkpoint-latest.pth is the run at step 4 (2 of 3 epochs done), with its AdamW state: CAMD_pretrain.py resumes from it at epoch 3');
    const pth = (await readTorchFile(ownRep.resume.file)).root as Map<string, unknown>;
    expect([...pth.keys()]).toEqual(['model', 'optimizer', 'epoch']);
    expect(pth.get('epoch')).toBe(1);
    const ours = readTensorFile(join(run, 'checkpoints', 'step-00000004.ckpt'), CHECKPOINT_FORMAT).tensors;
    expect(Array.from(flattenTensors(pth.get('model')).get('mm_blocks.1.norm2.weight')!.values())).toEqual(Array.from(ours.get('mm_blocks.1.norm2.weight')!.data));
    expect(readFileSync(join(own, 'run.sh'), 'utf8')).toMatch(/output\/checkpoint-latest\.pth holds .* at step 4 \(2 of 3 epochs done\): the released\n# auto-resume from --output_dir continues it with its AdamW state/);
    const tiny = camd(['cluster-pack', run, '--out', join(tempDir('pack'), 't'), '--preset', 'tiny']);
    expect(tiny.status).toBe(2);
    expect(tiny.stderr.trim()).toBe('camd: the released models_CAMD.py defines ViT-B/16, ViT-L/16 and ViT-H/14 only: --preset base, large or huge');
  }, 120_000);
});
