#!/usr/bin/env node
// `npm run bench -- --recipe-sweep [--steps N] [--work DIR]`: which pre-training recipe does the most
// on a desktop, measured on real faces? Every setting pre-trains tiny/112 at batch 16 for the same
// number of steps on the unlabelled faces of bench/probe-faces.mjs (the same compute: 2-core
// minutes), then one `camd probe --folds 5` puts every encoder beside an untrained network, raw
// pixels and the positive control on the pseudo-labelled smiling probe, with the fold-to-fold
// spread. Also reported per setting: the objective where it ended (the mean of the last 20 steps'
// dense and global losses) and the seconds it took. Writes bench/recipe-sweep.json, prints the table.
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { arg, camd, lastJson, prepareProbeFaces, repo } from './probe-faces.mjs';

const steps = Number(arg('--steps', '400'));
const work = resolve(arg('--work', join(repo, '.cache', 'recipe-sweep')));
const say = (m) => process.stderr.write(`[recipe-sweep] ${m}\n`);
/** What is swept: the learning rate (the paper's base lr scaled linearly to batch 16 is 1.95e-6), then the masking ratio. */
const settings = [
  { name: 'paper: blr 3.125e-5 (lr 1.95e-6)', args: ['--blr', '3.125e-5'] },
  { name: 'blr 4e-4 (lr 2.5e-5)', args: ['--blr', '4e-4'] },
  { name: 'blr 1.6e-3 (lr 1e-4)', args: ['--blr', '1.6e-3'] },
  { name: 'blr 6.4e-3 (lr 4e-4)', args: ['--blr', '6.4e-3'] },
  { name: 'blr 1.6e-3, mask 0.4', args: ['--blr', '1.6e-3', '--mask-ratio', '0.4'] },
];

rmSync(work, { recursive: true, force: true });
const db = join(work, 'camd.db');
const set = prepareProbeFaces(work, db, say);
const results = [];
for (const [i, s] of settings.entries()) {
  const out = join(work, `run-${i}`);
  say(
    `${i + 1}/${settings.length} ${s.name}: camd pretrain --preset tiny --img-size 112 --batch 16 --steps ${steps} ${s.args.join(' ')}`,
  );
  const t0 = Date.now();
  const text = camd([
    'pretrain',
    '--json',
    '--data',
    set.unlabelled,
    '--preset',
    'tiny',
    '--img-size',
    '112',
    '--batch',
    '16',
    '--steps',
    String(steps),
    ...s.args,
    '--out',
    out,
    '--db',
    db,
    '--checkpoint-every',
    String(steps),
  ]);
  const seconds = (Date.now() - t0) / 1000;
  const events = text
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  const stepsSeen = events.filter((e) => e.type === 'step');
  const mean = (xs, k) => xs.reduce((a, x) => a + x[k], 0) / xs.length;
  const first = stepsSeen.slice(0, 20);
  const last = stepsSeen.slice(-20);
  results.push({
    name: s.name,
    args: s.args,
    seconds,
    encoder: events.find((e) => e.type === 'done').encoder,
    max_lr: Math.max(...stepsSeen.map((e) => e.lr)),
    dense_first: mean(first, 'loss_dense'),
    dense_last: mean(last, 'loss_dense'),
    global_first: mean(first, 'loss_global'),
    global_last: mean(last, 'loss_global'),
  });
  say(
    `  ${seconds.toFixed(0)} s; dense loss ${results.at(-1).dense_first.toFixed(3)} → ${results.at(-1).dense_last.toFixed(3)}`,
  );
}
say('camd probe --folds 5 over every encoder, untrained, pixels and the control');
const cmp = lastJson(
  camd([
    'probe',
    '--json',
    ...results.flatMap((r) => ['--checkpoint', r.encoder]),
    '--random',
    '--pixels',
    '--control',
    '--folds',
    '5',
    '--data',
    set.probe,
    '--format',
    'folders',
    '--db',
    db,
  ]),
);
// camd probe names a checkpoint's row by its file; the rows come back in the order asked
for (const [i, r] of results.entries())
  Object.assign(r, { knn_top1: cmp.rows[i].knn, linear_top1: cmp.rows[i].linear, spread: cmp.rows[i].spread });
const references = cmp.rows
  .slice(results.length)
  .map((r) => ({ encoder: r.name, knn_top1: r.knn, linear_top1: r.linear, spread: r.spread }));
const report = {
  kind: 'camd-recipe-sweep',
  date: new Date().toISOString(),
  command: `npm run bench -- --recipe-sweep --steps ${steps}`,
  fixed: { preset: 'tiny', img_size: 112, batch: 16, steps, warmup_epochs: 5 },
  unlabelled_faces: set.unlabelledFaces,
  probe: {
    faces: set.faces,
    counts: set.counts,
    labels: `pseudo-labels: ${set.source}, top emotion 'happy' = smiling`,
    split: cmp.split,
    majority: set.majority,
  },
  settings: results,
  references,
};
writeFileSync(join(repo, 'bench', 'recipe-sweep.json'), `${JSON.stringify(report, null, 2)}\n`);
const pm = (v, s) => `${v.toFixed(3)}${s === undefined ? '' : ` ± ${s.toFixed(3)}`}`;
process.stdout.write(`${cmp.split}; always answering the larger class scores ${set.majority.toFixed(3)}\n`);
for (const r of results)
  process.stdout.write(
    `  ${r.name.padEnd(34)} k-NN ${pm(r.knn_top1, r.spread?.knn)}  linear ${pm(r.linear_top1, r.spread?.linear)}  dense ${r.dense_first.toFixed(2)}→${r.dense_last.toFixed(2)}  ${r.seconds.toFixed(0)} s\n`,
  );
for (const r of references)
  process.stdout.write(
    `  ${r.encoder.padEnd(34)} k-NN ${pm(r.knn_top1, r.spread?.knn)}  linear ${pm(r.linear_top1, r.spread?.linear)}\n`,
  );
