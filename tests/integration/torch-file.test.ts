// The .pth reader on files PyTorch itself wrote (Debian's python3-torch): every tensor's values,
// dtypes converted, strided views and offsets into shared storages, nested containers and
// argparse.Namespace; and hostile or broken files refused without running anything.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flattenTensors, readTorchFile, TorchFileError } from '../../trainer/src/interop/torch-file.js';
import { PickleRefused, PyObject, dictAttributes } from '../../trainer/src/interop/pickle.js';
import { tempDir } from '../support/folders.js';
import { camd } from '../support/cli.js';
import { Store } from '../../trainer/src/store/store.js';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../trainer/src/backends/ladder.js';
import { Classifier, readEncoder } from '../../trainer/src/finetune/classifier.js';
import { loadClassifier } from '../../trainer/src/finetune/classifier-file.js';

const SCRIPT = fileURLToPath(new URL('../support/torch_files.py', import.meta.url));
const VIT_MODULE = fileURLToPath(new URL('../support/vit_module.py', import.meta.url));
const python = [process.env['CAMD_PYTHON'], '/usr/bin/python3', 'python3']
  .filter((p): p is string => Boolean(p))
  .find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
const missing = python ? null : 'no Python with torch (install python3-torch; .ci/run does)';
if (missing && process.env['CI']) throw new Error(`torch-file tests need ${missing}`);
if (missing) console.log(`[torch-file] skipped: ${missing}`);

let dir: string;
beforeAll(() => {
  if (missing) return;
  dir = tempDir('torch-files');
  const r = spawnSync(python!, [SCRIPT, dir], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(r.stderr);
}, 180_000);

describe.skipIf(missing !== null)('reading torch.save files', () => {
  it('every tensor as PyTorch has it: float32/16, bfloat16, float64, int64; transposed views and slices of a shared storage; parameters; scalars', async () => {
    const f = await readTorchFile(join(dir, 'good.pth'));
    const root = f.root as Map<string, unknown>;
    expect([...root.keys()]).toEqual(['model', 'epoch', 'args', 'acc', 'tags', 'pair']);
    expect(root.get('epoch')).toBe(41);
    expect(root.get('acc')).toBe(0.875);
    expect(root.get('tags')).toEqual(['a', 'b']);
    expect(root.get('pair')).toEqual([1, 2]);
    const args = root.get('args') as PyObject;
    expect(args).toBeInstanceOf(PyObject);
    expect(args.state).toEqual({ model: 'vit_tiny', input_size: 112, mask_ratio: 0.6, blr: 1.5e-4 });
    const tensors = flattenTensors(root.get('model'));
    const expected = readFileSync(join(dir, 'good.expected'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const [name, shape, ...values] = l.split(' ');
        return { name: name!, shape: JSON.parse(shape!) as number[], values: values.map(Number) };
      });
    expect([...tensors.keys()]).toEqual(expected.map((e) => e.name));
    for (const e of expected) {
      const t = tensors.get(e.name)!;
      expect(t.shape, e.name).toEqual(e.shape);
      expect(Array.from(t.values()), e.name).toEqual(e.values.map((v) => Math.fround(v)));
    }
    expect(tensors.get('half')!.dtype).toBe('float16');
    expect(tensors.get('bf16')!.dtype).toBe('bfloat16');
    expect(tensors.get('num_batches_tracked')!.dtype).toBe('int64');
  });

  it("a module's state_dict() as PyTorch saves it: an OrderedDict whose _metadata (set by BUILD) is kept aside, the items exactly its tensors", async () => {
    const f = await readTorchFile(join(dir, 'linear.pth'));
    const root = f.root as Map<string, unknown>;
    expect([...root.keys()]).toEqual(['weight', 'bias']);
    expect(dictAttributes.get(root)).toEqual(new Map([['_metadata', new Map([['', new Map([['version', 1]])]])]]));
    const tensors = flattenTensors(root);
    for (const l of readFileSync(join(dir, 'linear.expected'), 'utf8').trim().split('\n')) {
      const [name, shape, ...values] = l.split(' ');
      expect(tensors.get(name!)!.shape).toEqual(JSON.parse(shape!));
      expect(Array.from(tensors.get(name!)!.values())).toEqual(values.map((v) => Math.fround(Number(v))));
    }
    // camd import reads it, and says what it is not
    const r = camd(['import', join(dir, 'linear.pth'), '--out', join(tempDir('linear'), 'x.safetensors')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/linear\.pth has no patch_embed\.proj\.weight: not a ViT encoder we can read/);
  });

  it("one ViT as PyTorch writes it every way: bare state_dict() (timm, the hub), through DDP, in PyTorch 2's archive layout — the same encoder to the bit; in float16 and bfloat16 — the same within their precision", async () => {
    const enc = (name: string) => {
      const out = join(tempDir(`import-${name}`), 'encoder.safetensors');
      const r = camd(['import', join(dir, name), '--out', out, '--json']);
      expect(r.status, `${name}: ${r.stderr}`).toBe(0);
      return readEncoder(out);
    };
    const ddp = enc('vit-micro.pth');
    for (const name of ['vit-micro-timm.pth', 'vit-micro-torch2.pth']) {
      const e = enc(name);
      expect([...e.tensors.keys()].sort(), name).toEqual([...ddp.tensors.keys()].sort());
      for (const [k, t] of ddp.tensors)
        expect(Array.from(e.tensors.get(k)!.data), `${name} ${k}`).toEqual(Array.from(t.data));
    }
    for (const [name, rel] of [
      ['vit-micro-float16.pth', 2 ** -11],
      ['vit-micro-bfloat16.pth', 2 ** -8],
    ] as const) {
      const e = enc(name);
      let differ = 0;
      for (const [k, t] of ddp.tensors) {
        const h = e.tensors.get(k)!.data;
        for (let i = 0; i < t.data.length; i++) {
          expect(Math.abs(h[i]! - t.data[i]!), `${name} ${k}[${i}]`).toBeLessThanOrEqual(
            Math.abs(t.data[i]!) * rel + 1e-7,
          );
          if (h[i] !== t.data[i]) differ++;
        }
      }
      expect(differ, `${name}: the values went through ${name.split('-').pop()!.slice(0, -4)}`).toBeGreaterThan(100);
    }
    const torch2 = await readTorchFile(join(dir, 'vit-micro-torch2.pth'));
    expect(dictAttributes.get(torch2.root as Map<string, unknown>)?.has('_metadata')).toBe(true);
  });

  it('hostile files are refused by name and nothing runs; a truncated or legacy file is one clear error', async () => {
    await expect(readTorchFile(join(dir, 'evil-os-system.pth'))).rejects.toThrow(
      new PickleRefused(
        'the file refers to the Python object posix.system, which a checkpoint has no need of: refused (nothing was run)',
      ),
    );
    await expect(readTorchFile(join(dir, 'evil-eval.pth'))).rejects.toThrow(
      /the Python object (__builtin__|builtins)\.eval, which a checkpoint has no need of: refused/,
    );
    expect(existsSync(join(dir, 'PWNED'))).toBe(false);
    expect(existsSync(join(dir, 'PWNED2'))).toBe(false);
    await expect(readTorchFile(join(dir, 'truncated.pth'))).rejects.toThrow(TorchFileError);
    await expect(readTorchFile(join(dir, 'legacy.pth'))).rejects.toThrow(
      /legacy format .* torch\.save\(torch\.load\(path\), path\) in PyTorch ≥ 1\.6/,
    );
  });

  it('graphs and archives built to hurt: 2⁴⁰ paths in 2 KB, objects that contain themselves, 300 levels, 200 MB of zeros in 200 KB — one line each, at once, from the reader and every command', async () => {
    expect(readFileSync(join(dir, 'laughs.pth')).length).toBeLessThan(4096);
    const t0 = performance.now();
    await expect(readTorchFile(join(dir, 'laughs.pth'))).rejects.toThrow(
      /refer to each other in more than 1,000,000 ways .*: refused$/,
    );
    await expect(readTorchFile(join(dir, 'self-dict.pth'))).rejects.toThrow(
      new PickleRefused('the pickle builds an object that contains itself, which no checkpoint does: refused'),
    );
    await expect(readTorchFile(join(dir, 'self-list.pth'))).rejects.toThrow(
      new PickleRefused('the pickle builds an object that contains itself, which no checkpoint does: refused'),
    );
    await expect(readTorchFile(join(dir, 'deep.pth'))).rejects.toThrow(
      new PickleRefused('the pickle nests its objects more than 200 levels deep, which no checkpoint does: refused'),
    );
    expect(performance.now() - t0).toBeLessThan(20_000); // bounded: the 2⁴⁰ walk would never end
    // zip bombs: an entry nobody refers to is never inflated; a storage may not declare more than its tensors hold
    expect(flattenTensors((await readTorchFile(join(dir, 'bomb-unused.pth'))).root).size).toBe(
      flattenTensors((await readTorchFile(join(dir, 'good.pth'))).root).size,
    );
    await expect(readTorchFile(join(dir, 'bomb-storage.pth'))).rejects.toThrow(
      /data\/0 declares [\d,]+ bytes, more than the [\d,]+ it can hold: damaged, or built to exhaust memory$/,
    );
    // the commands that read a .pth: one line, exit 2, no stack trace
    const data = tempDir('laughs-faces');
    copyFileSync(join(dir, 'good.pth'), join(data, 'not-an-image.pth')); // (the folder check comes after the file's)
    for (const args of [
      ['import', join(dir, 'laughs.pth'), '--out', join(tempDir('laughs-out'), 'e.safetensors')],
      ['pretrain', '--init', join(dir, 'self-dict.pth'), '--data', data, '--db', join(tempDir('laughs-db'), 'camd.db')],
      [
        'pretrain',
        '--continue',
        join(dir, 'laughs.pth'),
        '--data',
        data,
        '--db',
        join(tempDir('laughs-db2'), 'camd.db'),
      ],
    ]) {
      const r = camd(args);
      expect([r.status, r.stderr.trim().split('\n').length], `${args.join(' ')}: ${r.stderr}`).toEqual([2, 1]);
      expect(r.stderr).toMatch(/^camd: .*(refer to each other in more than|contains itself).*refused/);
    }
  });

  it('camd import of a diverged run (every weight NaN, or one Inf): refused with one line naming a tensor, nothing written', () => {
    const work = tempDir('import-nan');
    const make = spawnSync(
      python!,
      [
        '-c',
        `import torch, sys
def walk(v, f):
    if isinstance(v, torch.Tensor): f(v)
    elif isinstance(v, dict): [walk(x, f) for x in v.values()]
ck = torch.load(sys.argv[1], map_location='cpu', weights_only=True)
walk(ck, lambda t: t.fill_(float('nan')) if t.is_floating_point() else None)
torch.save(ck, sys.argv[2])
ck = torch.load(sys.argv[1], map_location='cpu', weights_only=True)
sd = ck.get('model', ck)
k = [k for k in sd if k.endswith('blocks.1.mlp.fc2.weight')][0]
sd[k][0, 0] = float('inf')
torch.save(ck, sys.argv[3])`,
        join(dir, 'vit-micro.pth'),
        join(work, 'nan.pth'),
        join(work, 'inf.pth'),
      ],
      { encoding: 'utf8' },
    );
    expect(make.status, make.stderr).toBe(0);
    for (const [f, message] of [
      [
        'nan.pth',
        /nan\.pth: 28 of 28 tensors hold NaN or infinite values \(patch_embed\.proj\.weight: 6144 of 6144\), as a run that diverged leaves them; import an earlier checkpoint$/,
      ],
      ['inf.pth', /inf\.pth: 1 of 28 tensors hold NaN or infinite values \(blocks\.1\.mlp\.fc2\.weight: 1 of 4096\)/],
    ] as const) {
      const out = join(work, `${f}.safetensors`);
      const r = camd(['import', join(work, f), '--out', out]);
      expect([r.status, r.stderr.trim().split('\n').length], r.stderr).toEqual([2, 1]);
      expect(r.stderr.trim()).toMatch(message);
      expect(existsSync(out)).toBe(false);
    }
  });

  it("camd import: a timm-style ViT (a DDP checkpoint) becomes our encoder, whose features equal PyTorch's on the same input", async () => {
    const out = join(tempDir('import'), 'encoder.safetensors');
    const r = camd(['import', join(dir, 'vit-micro.pth'), '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.events.at(-1)).toMatchObject({
      type: 'import',
      preset: 'micro',
      which: 'online',
      tensors: 28,
      ignored: ['fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias'],
    });
    const [feats, input, logits] = readFileSync(join(dir, 'vit-micro.features'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => Float32Array.from(l.split(' ').map(Number)));
    await selectBackend('cpu');
    const enc = readEncoder(out);
    expect(enc.model).toMatchObject({ embedDim: 32, depth: 2, numHeads: 2, patchSize: 8, imgSize: 32 });
    const clf = new Classifier({ model: enc.model, outputs: 1, dropPath: 0 }, 0);
    clf.loadEncoder(enc.tensors, out);
    const f = tf.tidy(() => clf.features(tf.tensor4d(input!, [2, 32, 32, 3])));
    const ours = (await f.data()) as Float32Array;
    f.dispose();
    clf.dispose();
    const scale = Math.max(...Array.from(feats!, Math.abs));
    for (let i = 0; i < feats!.length; i++)
      expect(Math.abs(ours[i]! - feats![i]!) / scale, `feature ${i}`).toBeLessThan(1e-5);
    // and back: camd export --format pytorch writes a .pth that torch.load(weights_only=True) reads,
    // equal to the original weights to the bit; importing it again gives our encoder to the bit
    const pth = join(tempDir('export'), 'encoder.pth');
    const x = camd(['export', '--checkpoint', out, '--format', 'pytorch', '--out', pth]);
    expect(x.status, x.stderr).toBe(0);
    const check = spawnSync(
      python!,
      [
        '-c',
        `import torch
d = torch.load(${JSON.stringify(pth)}, weights_only=True)['model']
ref = {k[7:]: v for k, v in torch.load(${JSON.stringify(join(dir, 'vit-micro.pth'))})['model'].items() if not k.startswith('module.head') and not k.startswith('module.fc_norm')}
assert sorted(d) == sorted(ref), (sorted(d), sorted(ref))
bad = [k for k in d if not torch.equal(d[k], ref[k])]
print('differ', bad)`,
      ],
      { encoding: 'utf8' },
    );
    expect(check.stderr).toBe('');
    expect(check.stdout.trim()).toBe('differ []');
    const again = join(tempDir('import2'), 'encoder.safetensors');
    expect(camd(['import', pth, '--out', again]).status).toBe(0);
    const [e1, e2] = [readEncoder(out), readEncoder(again)];
    expect([...e2.tensors.keys()].sort()).toEqual([...e1.tensors.keys()].sort());
    for (const [k, t] of e1.tensors) expect(Array.from(e2.tensors.get(k)!.data), k).toEqual(Array.from(t.data));
    // the same weights as a safetensors file (not ours: a flat state dict) give the same encoder, to the bit
    const fromSt = join(tempDir('import-st'), 'encoder.safetensors');
    const sti = camd(['import', join(dir, 'vit-micro.safetensors'), '--out', fromSt, '--json']);
    expect(sti.status, sti.stderr).toBe(0);
    const [a1, a2] = [readEncoder(out), readEncoder(fromSt)];
    for (const [k, t] of a1.tensors) expect(Array.from(a2.tensors.get(k)!.data), k).toEqual(Array.from(t.data));
    // a tensor of another shape is refused by name, with the shape it should have
    const shape = camd(['import', join(dir, 'vit-micro-badshape.pth'), '--out', join(tempDir('bad'), 'x.safetensors')]);
    expect(shape.status).toBe(2);
    expect(shape.stderr).toMatch(/blocks\.1\.mlp\.fc1\.weight has shape \[100,32\]; a ViT 32 wide needs \[128,32\]/);
    // with --head: the fine-tuned classifier (fc_norm + head) as ours, whose logits equal PyTorch's
    const clfFile = join(tempDir('import-clf'), 'rafdb.safetensors');
    const clfDb = join(tempDir('import-clf-db'), 'camd.db');
    const h = camd([
      'import',
      join(dir, 'vit-micro.pth'),
      '--out',
      clfFile,
      '--head',
      'rafdb',
      '--db',
      clfDb,
      '--json',
    ]);
    expect(h.status, h.stderr).toBe(0);
    expect(h.events.at(-1)).toMatchObject({
      head: { task: 'fer', names: ['Surprise', 'Fear', 'Disgust', 'Happy', 'Sad', 'Anger', 'Neutral'] },
      ignored: [],
    });
    // …recorded as a fine-tuned run whose classifier is that file (what predictions and the labelling view use); again: the same run
    const st = new Store(clfDb);
    const runId = String(h.events.at(-1)!['run_id']);
    expect(st.run(runId)).toMatchObject({ kind: 'finetune', status: 'done', name: 'vit-micro.pth (imported)' });
    expect(st.db.prepare('SELECT kind, path FROM checkpoints WHERE run_id = ?').all(runId)).toEqual([
      { kind: 'classifier', path: clfFile },
    ]);
    st.close();
    const h2 = camd([
      'import',
      join(dir, 'vit-micro.pth'),
      '--out',
      clfFile,
      '--head',
      'rafdb',
      '--db',
      clfDb,
      '--json',
    ]);
    expect(h2.events.at(-1)!['run_id']).toBe(runId);
    const loaded = loadClassifier(clfFile);
    expect([loaded.task, loaded.imgSize]).toEqual(['fer', 32]);
    const lg = tf.tidy(() => loaded.clf.logits(tf.tensor4d(input!, [2, 32, 32, 3])));
    const ourLogits = (await lg.data()) as Float32Array;
    lg.dispose();
    loaded.clf.dispose();
    const lscale = Math.max(...Array.from(logits!, Math.abs));
    expect(ourLogits).toHaveLength(14);
    for (let i = 0; i < logits!.length; i++)
      expect(Math.abs(ourLogits[i]! - logits![i]!) / lscale, `logit ${i}`).toBeLessThan(1e-5);
    // …and exported again (camd export --format pytorch), an independent PyTorch ViT classifier with timm's names
    // loads it with strict=True and gives the same logits
    const clfPth = join(tempDir('export-clf'), 'rafdb.pth');
    expect(camd(['export', '--checkpoint', clfFile, '--format', 'pytorch', '--out', clfPth]).status).toBe(0);
    const mod = spawnSync(
      python!,
      [VIT_MODULE, clfPth, join(dir, 'vit-micro.features'), '32', '2', '2', '8', '32', '7'],
      { encoding: 'utf8' },
    );
    expect(mod.status, mod.stderr).toBe(0);
    const theirs = mod.stdout.trim().split(' ').map(Number);
    expect(theirs).toHaveLength(14);
    for (let i = 0; i < theirs.length; i++)
      expect(Math.abs(theirs[i]! - logits![i]!) / lscale, `logit ${i} (strict-loaded module)`).toBeLessThan(1e-5);
    const eight = camd(['import', join(dir, 'vit-micro.pth'), '--out', clfFile, '--head', 'ferplus']);
    expect(eight.status).toBe(2);
    expect(eight.stderr).toMatch(/its head has 7 output\(s\); --head names 8 class\(es\) \(neutral, happiness/);
    // the teacher of a file without one, and a width no preset has, are refused with what to do
    const t = camd(['import', join(dir, 'vit-micro.pth'), '--out', out, '--teacher']);
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(
      /has no mm_patch_embed\.proj\.weight: not a ViT encoder we can read \(--teacher needs a CAMD pre-training checkpoint/,
    );
    const bad = camd(['import', join(dir, 'evil-eval.pth'), '--out', out]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/eval, which a checkpoint has no need of: refused \(nothing was run\)/);
  });

  it("camd import-run: the released scripts' output folders become runs of the store, every epoch's values, their args, a re-import updates", async () => {
    const db = join(tempDir('import-run'), 'camd.db');
    const pre = camd(['import-run', join(dir, 'torchrun-pretrain'), '--db', db, '--json']);
    expect(pre.status, pre.stderr).toBe(0);
    // its checkpoint-2.pth is misc.save_model's dict: a module's state_dict(), AdamW's state_dict(), the GradScaler's, args
    expect(pre.events.at(-1)).toMatchObject({
      kind: 'pretrain',
      epochs: 3,
      metrics: ['loss', 'lr', 'train_loss_dense'],
      updated: false,
      notes: [],
      argsFrom: join(dir, 'torchrun-pretrain', 'checkpoint-2.pth'),
      args: {
        model: 'CAMD_vit_tiny_patch16',
        input_size: 112,
        mask_ratio: 0.6,
        batch_size: 64,
        epochs: 400,
        blr: 1.5e-4,
        warmup_epochs: 40,
        seed: 0,
        dis_lay: [2, 5, 8, 11],
        lr: null,
        distributed: true,
      },
    });
    // a damaged newest checkpoint is said, and the settings come from the one before
    const damaged = tempDir('import-run-damaged');
    cpSync(join(dir, 'torchrun-pretrain'), damaged, { recursive: true });
    writeFileSync(join(damaged, 'checkpoint-3.pth'), readFileSync(join(damaged, 'checkpoint-2.pth')).subarray(0, 300));
    const d = camd(['import-run', damaged, '--db', join(tempDir('import-run-damaged-db'), 'camd.db')]);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/settings: the args of checkpoint-2\.pth\n/);
    expect(d.stdout).toMatch(/note: checkpoint-3\.pth could not be read: .*(damaged|truncated|zip)/);
    copyFileSync(join(dir, 'linear.pth'), join(damaged, 'checkpoint-2.pth'));
    const noArgs = camd(['import-run', damaged, '--db', join(tempDir('import-run-damaged-db2'), 'camd.db'), '--json']);
    expect(noArgs.events.at(-1)).toMatchObject({
      args: null,
      notes: [
        expect.stringMatching(/^checkpoint-3\.pth could not be read/),
        'checkpoint-2.pth has no args',
        "no checkpoint gave the run's settings (args): the run is imported with its log only",
      ],
    });
    const fin = camd(['import-run', join(dir, 'torchrun-finetune'), '--db', db, '--json']);
    expect(fin.status, fin.stderr).toBe(0);
    const store = new Store(db);
    const runs = store.runs();
    expect(runs.map((r) => [r.kind, r.status, r.last_step, r.total_steps])).toEqual([
      ['pretrain', 'stopped', 3, 400],
      ['finetune', 'done', 3, 3],
    ]);
    expect(JSON.parse(runs[0]!.config)).toMatchObject({ source: 'torchrun' });
    const loss = store.metrics([runs[0]!.id], ['loss']).map((m) => [m.step, m.value]);
    expect(loss).toEqual([
      [1, 2],
      [2, 1.5],
      [3, 1],
    ]);
    const evals = store.db
      .prepare('SELECT epoch, metric, value, selected FROM evaluations WHERE run_id = ? ORDER BY epoch')
      .all(runs[1]!.id);
    expect(evals).toEqual([
      { epoch: 1, metric: 'top1', value: 0.615, selected: 0 },
      { epoch: 2, metric: 'top1', value: 0.7025, selected: 1 },
      { epoch: 3, metric: 'top1', value: 0.68, selected: 0 },
    ]);
    store.close();
    const again = camd(['import-run', join(dir, 'torchrun-finetune'), '--db', db, '--json']);
    expect(again.events.at(-1)).toMatchObject({ updated: true });
    const s2 = new Store(db);
    expect(s2.runs()).toHaveLength(2);
    expect(s2.metrics([runs[1]!.id], ['test_acc1'])).toHaveLength(3);
    s2.close();
    const none = camd(['import-run', tempDir('empty-run'), '--db', db]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/has no log\.txt: not the --output_dir of CAMD_pretrain\.py or CAMD_finetune\.py/);
  });
});
