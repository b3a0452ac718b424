// A run handed to the released code and back: `camd export --format camd-pth` writes the weights and
// the AdamW state as CAMD_pretrain.py --resume loads them (checked with Debian's python3-torch: a
// torch AdamW grouped as the released training groups loads the state and steps), and
// `camd pretrain --continue FILE` carries a run on from such a file — ours, or one torch.save wrote
// with the released scripts' args — bit for bit as if it had never left.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { faceFolder, tempDir } from '../support/folders.js';
import { camd } from '../support/cli.js';
import { readTorchFile } from '../../trainer/src/interop/torch-file.js';
import { oursName } from '../../trainer/src/interop/camd-released.js';
import { CHECKPOINT_FORMAT, OPT_M, OPT_V, readTensorFile } from '../../trainer/src/store/checkpoint.js';
import { decays } from '../../trainer/src/optim/adamw.js';

const SCRIPT = fileURLToPath(new URL('../support/camd_pth_resume.py', import.meta.url));
const python = [process.env['CAMD_PYTHON'], '/usr/bin/python3', 'python3']
  .filter((p): p is string => Boolean(p))
  .find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
const missing = python ? null : 'no Python with torch (install python3-torch; .ci/run does)';
if (missing && process.env['CI']) throw new Error(`camd-continue tests need ${missing}`);
if (missing) console.log(`[camd-continue] skipped: ${missing}`);

const RUN = ['--preset', 'micro', '--img-size', '32', '--batch', '4', '--warmup-epochs', '1'];
let faces: string;
let db: string;
beforeAll(() => {
  faces = faceFolder(8, 'continue');
  db = join(tempDir('continue-db'), 'camd.db');
});

function pretrain(args: string[]) {
  const r = camd(['pretrain', '--json', '--data', faces, '--db', db, ...args]);
  expect(r.status, r.stderr).toBe(0);
  return r;
}

/** Every tensor of two checkpoints equal to the bit; their step counts equal. */
function expectSameCheckpoint(a: string, b: string): void {
  const [x, y] = [readTensorFile(a, CHECKPOINT_FORMAT), readTensorFile(b, CHECKPOINT_FORMAT)];
  expect([...y.tensors.keys()].sort()).toEqual([...x.tensors.keys()].sort());
  for (const [k, t] of x.tensors)
    expect(Buffer.from(y.tensors.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
  const st = (f: typeof x) => f.state as { step: number; optimizer_step: number };
  expect([st(y).step, st(y).optimizer_step]).toEqual([st(x).step, st(x).optimizer_step]);
}

describe.skipIf(missing !== null)('a run to the released code and back', () => {
  it('camd-pth carries the AdamW state as the released training numbers it; --continue from it is the uninterrupted run, to the bit', async () => {
    // 8 faces, batch 4: 2 steps an epoch. Stopped after step 4 = 2 epochs, of a 6-step run.
    const run = join(tempDir('c'), 'run');
    pretrain([...RUN, '--steps', '6', '--stop-at', '4', '--out', run]);
    const ck = join(run, 'checkpoints', 'step-00000004.ckpt');
    const pth = join(tempDir('c-pth'), 'c.pth');
    const x = camd(['export', '--checkpoint', ck, '--format', 'camd-pth', '--out', pth]);
    expect(x.status, x.stderr).toBe(0);
    expect(x.stdout).toMatch(/step 4, 2 epoch\(s\) done\) with its AdamW state/);
    const root = (await readTorchFile(pth)).root as Map<string, unknown>;
    expect([...root.keys()]).toEqual(['model', 'optimizer', 'epoch', 'args']);
    expect(root.get('epoch')).toBe(1); // the released scripts resume at epoch + 1 = 2 (0-based)
    // the run's settings as the released flags, in a dict (torch.load(weights_only=True) reads it)
    expect(Object.fromEntries(root.get('args') as Map<string, unknown>)).toMatchObject({
      model: 'CAMD_vit_micro_patch8',
      input_size: 32,
      batch_size: 4,
      world_size: 1,
      epochs: 3,
      warmup_epochs: 1,
      blockwise_num_masking_patches: 10,
      with_blockwise_mask: true,
      seed: 0,
    });

    // PyTorch: the state loads into an AdamW grouped as the released training groups, by name
    const torchPth = join(tempDir('c-torch'), 'checkpoint-1.pth');
    const py = spawnSync(python!, [SCRIPT, pth, torchPth], { encoding: 'utf8', timeout: 120_000 });
    expect(py.status, py.stderr).toBe(0);
    const rep = JSON.parse(py.stdout) as {
      epoch: number;
      groups: number[];
      weight_decay: number[];
      state: Record<string, [number, number, number]>;
      stepped: boolean;
    };
    const ours = readTensorFile(ck, CHECKPOINT_FORMAT).tensors;
    const online = [...ours.keys()].filter((k) => ours.has(OPT_M + k));
    const noDecay = online.filter((k) => !decays(k, ours.get(k)!.shape)).length;
    expect(rep.groups).toEqual([noDecay, online.length - noDecay]);
    expect(rep.weight_decay).toEqual([0, 0.05]);
    expect(Object.keys(rep.state)).toHaveLength(online.length);
    const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    for (const [name, [step, m, v]] of Object.entries(rep.state)) {
      const k = oursName(name)!;
      expect(step, name).toBe(4);
      expect(m, name).toBeCloseTo(sum(ours.get(OPT_M + k)!.data), 10);
      expect(v, name).toBeCloseTo(sum(ours.get(OPT_V + k)!.data), 12);
    }
    expect(rep.stepped).toBe(true);

    // --continue from our export, its length and warm-up from its args: steps 5 and 6 equal an uninterrupted 6-step run's
    const cont = join(tempDir('e'), 'run');
    const e = pretrain(['--continue', pth, '--batch', '4', '--out', cont]);
    expect(e.events.find((ev) => ev.type === 'start')).toMatchObject({ first_step: 5, total_steps: 6 });
    expect(
      e.events.some(
        (ev) =>
          ev.type === 'log' &&
          /2 epoch\(s\) done, this run starts at step 5 \(epoch 3 of 3\) with its AdamW state/.test(
            String(ev['message']),
          ),
      ),
    ).toBe(true);
    expectSameCheckpoint(ck, join(cont, 'checkpoints', 'step-00000004.ckpt')); // the starting point, written at once
    const whole = join(tempDir('d'), 'run');
    pretrain([...RUN, '--steps', '6', '--out', whole]);
    expectSameCheckpoint(
      join(whole, 'checkpoints', 'step-00000006.ckpt'),
      join(cont, 'checkpoints', 'step-00000006.ckpt'),
    );
    expect(JSON.parse(readFileSync(join(cont, 'run.json'), 'utf8'))).toMatchObject({
      settings: { preset: 'micro', imgSize: 32, epochs: 3, warmupEpochs: 1, maskRatio: 10 / 16, seed: 0 },
      start: { mode: 'continue', file: pth, format: 'released', epochs_done: 2, step: 4, optimizer: true },
    });

    // the file as the released scripts save it (torch's own optimizer state_dict, args, scaler):
    // its settings come from the args, its state is ours to the bit
    const fromTorch = join(tempDir('g'), 'run');
    pretrain(['--continue', torchPth, '--batch', '4', '--out', fromTorch, '--stop-at', '5']);
    expect(JSON.parse(readFileSync(join(fromTorch, 'run.json'), 'utf8')).settings).toMatchObject({
      imgSize: 32,
      maskRatio: 10 / 16,
      epochs: 7,
      blr: 2e-4,
      warmupEpochs: 1,
      seed: 3,
    });
    expectSameCheckpoint(ck, join(fromTorch, 'checkpoints', 'step-00000004.ckpt'));

    // --init: the weights only, a fresh optimiser, step 1
    const init = join(tempDir('h'), 'run');
    const h = pretrain(['--init', pth, '--batch', '4', '--steps', '2', '--out', init]);
    expect(h.events.find((ev) => ev.type === 'start')).toMatchObject({ first_step: 1 });
    const h0 = readTensorFile(join(init, 'checkpoints', 'step-00000000.ckpt'), CHECKPOINT_FORMAT);
    expect([...h0.tensors.keys()].some((k) => k.startsWith('optim.'))).toBe(false);
    for (const k of [
      'blocks.1.attn.qkv.weight',
      'mm_blocks.0.mlp.fc2.weight',
      'multihead_attention_topk.q_proj.weight',
      'projector_decoder_blocks.1.norm2.weight',
    ])
      expect(Array.from(h0.tensors.get(k)!.data), k).toEqual(Array.from(ours.get(k)!.data));

    // the released model as a safetensors state dict: --init reads it the same
    const initSt = join(tempDir('h-st'), 'run');
    pretrain(['--init', `${torchPth}.safetensors`, '--batch', '4', '--steps', '2', '--out', initSt]);
    const s0 = readTensorFile(join(initSt, 'checkpoints', 'step-00000000.ckpt'), CHECKPOINT_FORMAT);
    for (const [k, t] of h0.tensors)
      expect(Buffer.from(s0.tensors.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);

    // refused, in words: a run with nothing left, another architecture, with --resume, an encoder
    const done = camd([
      'pretrain',
      '--continue',
      pth,
      '--data',
      faces,
      '--db',
      db,
      '--batch',
      '4',
      '--steps',
      '4',
      '--out',
      join(tempDir('x'), 'run'),
    ]);
    expect(done.status).toBe(2);
    expect(done.stderr).toMatch(
      /its run completed 2 epoch\(s\), and this run is 2 epoch\(s\) long: nothing is left to train/,
    );
    const arch = camd([
      'pretrain',
      '--continue',
      pth,
      '--data',
      faces,
      '--db',
      db,
      '--preset',
      'tiny',
      '--out',
      join(tempDir('x'), 'run'),
    ]);
    expect(arch.stderr).toMatch(/--preset tiny: .* holds a ViT-micro, and its weights fix the architecture/);
    const both = camd(['pretrain', '--continue', pth, '--resume', run]);
    expect(both.stderr).toMatch(/--continue starts a new run; --resume continues the run in its folder/);
    const encPth = join(tempDir('enc'), 'encoder.pth');
    expect(
      camd(['export', '--checkpoint', join(run, 'encoder.safetensors'), '--format', 'pytorch', '--out', encPth]).status,
    ).toBe(0);
    const enc = camd([
      'pretrain',
      '--continue',
      encPth,
      '--data',
      faces,
      '--db',
      db,
      '--out',
      join(tempDir('x'), 'run'),
    ]);
    expect(enc.status).toBe(2);
    expect(enc.stderr).toMatch(/has no mm_blocks\.0\.norm1\.weight: not a CAMD pre-training checkpoint/);
  }, 180_000);
});
