// camd cluster-pack: a local run as a box for the released code under torchrun — its images as the
// released loader reads them, its checkpoint, camd_launch.py and run.sh with the released flags.
import { describe, expect, it } from 'vitest';
import { lstatSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { faceFolder, tempDir } from '../support/folders.js';
import { camd } from '../support/cli.js';
import { flattenTensors, readTorchFile } from '../../trainer/src/interop/torch-file.js';
import { CHECKPOINT_FORMAT, readTensorFile } from '../../trainer/src/store/checkpoint.js';

const python = [process.env['CAMD_PYTHON'], '/usr/bin/python3', 'python3']
  .filter((p): p is string => Boolean(p))
  .find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
if (!python && process.env['CI'])
  throw new Error(
    'the cluster-pack test runs camd_launch.py with a Python that has torch (install python3-torch; .ci/run does)',
  );
const STAND_IN = fileURLToPath(new URL('../support/released-interface', import.meta.url));

describe('camd cluster-pack', () => {
  it('the run at its own size: its images as the released loader reads them, its checkpoint with its settings as args, camd_launch.py and run.sh with the released flags; what does not carry over is said', async () => {
    const data = faceFolder(10, 'pack-faces');
    const db = join(tempDir('db'), 'camd.db');
    const run = join(tempDir('run'), 'pre');
    const r = camd([
      'pretrain',
      '--json',
      '--data',
      data,
      '--preset',
      'micro',
      '--batch',
      '4',
      '--steps',
      '6',
      '--mask-ratio',
      '0.5',
      '--blr',
      '2e-4',
      '--warmup-epochs',
      '1',
      '--seed',
      '3',
      '--stop-at',
      '4',
      '--out',
      run,
      '--db',
      db,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const out = join(tempDir('pack'), 'box');
    const p = camd(['cluster-pack', run, '--out', out, '--gpus', '2', '--json']);
    expect(p.status, p.stderr).toBe(0);
    const rep = p.events.at(-1) as unknown as {
      images: number;
      model: string;
      notes: string[];
      flags: Record<string, unknown>;
      resume: { step: number; epoch: number; file: string };
    };
    expect(rep.images).toBe(10);
    expect(rep.model).toBe('CAMD_vit_micro_patch8');
    expect(rep.notes).toEqual([
      'micro at 32 px: camd_launch.py gives the released code this model size and input size, which its models_CAMD.py and mask generator do not have',
      'the run was 6 steps, 2 an epoch: 3 epochs there',
      'start/checkpoint.pth is the run at step 4 (2 of 3 epochs done), with its AdamW state: the cluster run starts from it at epoch 3',
    ]);
    // micro at 32 px: 16 patches, half masked; the batch of 4 split over 2 GPUs; the cluster's latest checkpoint every epoch
    expect(rep.flags).toMatchObject({
      model: 'CAMD_vit_micro_patch8',
      input_size: 32,
      decoder_embed_dim: 32,
      batch_size: 2,
      epochs: 3,
      warmup_epochs: 1,
      blr: 2e-4,
      blockwise_num_masking_patches: 8,
      seed: 3,
      dis_lay: [0, 1],
      select_top_k: 2,
      xi_1: 1,
      xi_2: 0.25,
      beta_dis: 0.1,
      neg_weight: 0.02,
      mm: 0.995,
      mmschedule: 'cosine',
      save_latest_freq: 1,
    });
    expect(rep.resume).toMatchObject({ step: 4, epoch: 1, file: join(out, 'start', 'checkpoint.pth') });
    // the packed checkpoint: the released layout, its epoch, and the box's flags as its args (a dict: weights_only loads it)
    const pth = (await readTorchFile(rep.resume.file)).root as Map<string, unknown>;
    expect([...pth.keys()]).toEqual(['model', 'optimizer', 'epoch', 'args']);
    expect(pth.get('epoch')).toBe(1);
    const args = Object.fromEntries(pth.get('args') as Map<string, unknown>);
    expect(args).toMatchObject({
      model: 'CAMD_vit_micro_patch8',
      input_size: 32,
      epochs: 3,
      warmup_epochs: 1,
      batch_size: 2,
      world_size: 2,
      blr: 2e-4,
      lr: (2e-4 * 4) / 256,
      seed: 3,
      blockwise_num_masking_patches: 8,
      with_blockwise_mask: true,
    });
    const ours = readTensorFile(join(run, 'checkpoints', 'step-00000004.ckpt'), CHECKPOINT_FORMAT).tensors;
    expect(Array.from(flattenTensors(pth.get('model')).get('mm_blocks.1.norm2.weight')!.values())).toEqual(
      Array.from(ours.get('mm_blocks.1.norm2.weight')!.data),
    );
    const sh = readFileSync(join(out, 'run.sh'), 'utf8');
    expect(sh).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell script's own ${…} expansions, as written
      'cd "$(dirname "$0")"\n: "${CAMD_CODE:?set CAMD_CODE to a checkout of github.com/mumumu-wss/CAMD}"\nexport CAMD_CODE\ntorchrun --nproc_per_node=${NUM_GPUS:-2} camd_launch.py --camd_start start/checkpoint.pth \\\n    --model CAMD_vit_micro_patch8 \\\n    --input_size 32',
    );
    expect(sh).toMatch(/--with_blockwise_mask \\\n/);
    // the script runs as written: a shell with a stand-in torchrun (PATH) sees the flags, in the box's folder
    const bin = tempDir('fake-torchrun');
    writeFileSync(
      join(bin, 'torchrun'),
      '#!/bin/sh\npwd > torchrun.args\nfor a in "$@"; do echo "$a" >> torchrun.args; done\n',
      { mode: 0o755 },
    );
    const ran = spawnSync('sh', [join(out, 'run.sh')], {
      encoding: 'utf8',
      cwd: tempDir('elsewhere'),
      env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, CAMD_CODE: '/opt/CAMD', NUM_GPUS: '4' },
    });
    expect(ran.status, ran.stderr).toBe(0);
    const argv = readFileSync(join(out, 'torchrun.args'), 'utf8').trim().split('\n');
    expect(argv.slice(0, 7)).toEqual([
      realpathSync(out),
      '--nproc_per_node=4',
      'camd_launch.py',
      '--camd_start',
      'start/checkpoint.pth',
      '--model',
      'CAMD_vit_micro_patch8',
    ]);
    expect(argv.slice(argv.indexOf('--dis_lay'), argv.indexOf('--dis_lay') + 3)).toEqual(['--dis_lay', '0', '1']);
    expect(argv.slice(-2)).toEqual(['--save_latest_freq', '1']);
    const unset = spawnSync('sh', [join(out, 'run.sh')], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, CAMD_CODE: '' },
    });
    expect(unset.status).not.toBe(0);
    expect(unset.stderr).toMatch(/set CAMD_CODE to a checkout of github\.com\/mumumu-wss\/CAMD/);
    const files = readdirSync(join(out, 'data', 'train', 'faces')).sort();
    expect(files).toEqual(readdirSync(data).sort());
    for (const f of files) {
      expect(lstatSync(join(out, 'data', 'train', 'faces', f)).isSymbolicLink()).toBe(true);
      expect(realpathSync(join(out, 'data', 'train', 'faces', f))).toBe(realpathSync(join(data, f)));
    }

    if (python) {
      // camd_launch.py over a stand-in of the released interface (tests/support/released-interface): the model
      // function it registers, at the run's input size; the mask generator's grid; the engine's five values;
      // the packed start only while output/ has no checkpoint of the cluster's own
      const launch = (extra: string[] = []) =>
        spawnSync(python, [join(out, 'camd_launch.py'), ...argv.slice(3), ...extra], {
          encoding: 'utf8',
          cwd: out,
          env: { ...process.env, CAMD_CODE: STAND_IN },
        });
      const first = launch();
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout).toContain(
        'camd_launch.py: starting from start/checkpoint.pth, the run as camd cluster-pack packed it',
      );
      const seen = () => JSON.parse(readFileSync(join(out, 'output', 'seen.json'), 'utf8')) as Record<string, unknown>;
      expect(seen()).toEqual({
        model: {
          img_size: 32,
          patch_size: 8,
          embed_dim: 32,
          depth: 2,
          num_heads: 2,
          decoder_num_heads: 4,
          mlp_ratio: 4,
          norm_eps: 1e-6,
        },
        window: 4,
        masked: 8,
        resume: 'start/checkpoint.pth',
        pixel_loss: null,
        outputs: { loss_CAMD: 1 },
      });
      writeFileSync(join(out, 'output', 'checkpoint-latest.pth'), "the cluster's own");
      const again = launch();
      expect(again.status, again.stderr).toBe(0);
      expect(seen()['resume']).toBe('');
      expect(again.stdout).toContain("holds the cluster's own checkpoints: the released auto-resume picks the newest");
      const noCode = spawnSync(python, [join(out, 'camd_launch.py')], {
        encoding: 'utf8',
        cwd: out,
        env: { ...process.env, CAMD_CODE: '' },
      });
      expect(noCode.status).not.toBe(0);
      expect(noCode.stderr).toMatch(/camd_launch\.py: set CAMD_CODE to a checkout of github\.com\/mumumu-wss\/CAMD/);
    }

    // another released size: a new run at 224 px, its images, no checkpoint; the released functions only wrapped for the size
    const copied = join(tempDir('pack'), 'copies');
    const large = camd(['cluster-pack', run, '--out', copied, '--copy', '--preset', 'large', '--json']);
    expect(large.status, large.stderr).toBe(0);
    const f0 = files[0]!;
    expect(lstatSync(join(copied, 'data', 'train', 'faces', f0)).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(copied, 'data', 'train', 'faces', f0)).equals(readFileSync(join(data, f0)))).toBe(true);
    expect(large.events.at(-1)).toMatchObject({
      resume: null,
      flags: {
        model: 'CAMD_vit_large_patch16',
        input_size: 224,
        blockwise_num_masking_patches: 98,
        dis_lay: [5, 11, 17, 23],
      },
    });
    expect((large.events.at(-1)!['notes'] as string[])[0]).toBe(
      "packed as a new large run at 224 px (--preset): the run's micro checkpoint cannot be loaded there",
    );
    expect(readFileSync(join(copied, 'camd_launch.py'), 'utf8')).toContain('MODELS = {}');
    expect(readFileSync(join(copied, 'run.sh'), 'utf8')).toContain(
      'camd_launch.py \\\n    --model CAMD_vit_large_patch16',
    );
    if (python) {
      const l = spawnSync(
        python,
        [
          join(copied, 'camd_launch.py'),
          '--model',
          'CAMD_vit_large_patch16',
          '--input_size',
          '224',
          '--output_dir',
          './output',
          '--data_path',
          './data',
          '--blockwise_num_masking_patches',
          '98',
          '--with_blockwise_mask',
        ],
        { encoding: 'utf8', cwd: copied, env: { ...process.env, CAMD_CODE: STAND_IN } },
      );
      expect(l.status, l.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(copied, 'output', 'seen.json'), 'utf8'))).toMatchObject({
        model: { img_size: 224, embed_dim: 1024 },
        window: 14,
        resume: '',
      });
    }
    const tiny = camd(['cluster-pack', run, '--out', join(tempDir('pack'), 't'), '--preset', 'tiny']);
    expect(tiny.status).toBe(2);
    expect(tiny.stderr.trim()).toBe(
      'camd: --preset packs a new run at one of the released sizes: base, large or huge (the run itself, micro, goes at its own size without --preset)',
    );
  }, 120_000);
});
