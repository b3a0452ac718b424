#!/usr/bin/env node
// `npm run bench -- --probe-quality [--steps N] [--blr X] [--work DIR]`: is CAMD pre-training better
// than no pre-training for faces, measured on real faces with the tools a user has?
//  1–2. unlabelled real faces and a pseudo-labelled probe set (bench/probe-faces.mjs);
//  3. `camd pretrain` tiny/112 on (1) with the probe monitor on (2);
//  4. `camd probe --folds 5`: the pre-trained encoder beside an untrained network of the same
//     architecture and raw pixels, 5-fold cross-validated over every probe face. Writes
//     bench/probe-quality.json and prints the table.
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Database, arg, camd, lastJson, prepareProbeFaces, repo } from './probe-faces.mjs';

const steps = Number(arg('--steps', '400'));
const preset = arg('--preset', 'tiny');
const imgSize = arg('--img-size', '112');
const batch = arg('--batch', '16');
const blr = arg('--blr', '1.5e-4');
const work = resolve(arg('--work', join(repo, '.cache', 'probe-quality')));
const say = (m) => process.stderr.write(`[probe-quality] ${m}\n`);

rmSync(work, { recursive: true, force: true });
const db = join(work, 'camd.db');
const set = prepareProbeFaces(work, db, say);
const { probe, counts } = set;

// 3. pre-training with the probe monitor
const run = join(work, 'run');
const t0 = Date.now();
say(
  `camd pretrain --preset ${preset} --img-size ${imgSize} --batch ${batch} --steps ${steps} --blr ${blr} with the probe monitor`,
);
const pre = camd([
  'pretrain',
  '--json',
  '--data',
  set.unlabelled,
  '--preset',
  preset,
  '--img-size',
  imgSize,
  '--batch',
  batch,
  '--steps',
  String(steps),
  '--blr',
  blr,
  '--probe-data',
  probe,
  '--probe-format',
  'folders',
  '--out',
  run,
  '--db',
  db,
]);
const pretrainSeconds = (Date.now() - t0) / 1000;
const events = pre
  .trim()
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l));
const done = events.find((e) => e.type === 'done');
const mdb = new Database(db, { readonly: true });
const series = mdb
  .prepare(
    "SELECT m.name, m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.out_dir = ? AND m.name LIKE 'probe/%' ORDER BY m.step, m.name",
  )
  .all(run);
mdb.close();
const probeSeconds = series.filter((x) => x.name === 'probe/seconds').reduce((a, x) => a + x.value, 0);

// 4. the comparison
const cmp = lastJson(
  camd([
    'probe',
    '--json',
    '--checkpoint',
    done.encoder,
    '--random',
    '--pixels',
    '--control',
    '--folds',
    '5',
    '--data',
    probe,
    '--format',
    'folders',
    '--db',
    db,
  ]),
);
const majority = set.majority;
const out = {
  kind: 'camd-probe-quality',
  date: new Date().toISOString(),
  command: `npm run bench -- --probe-quality --steps ${steps} --preset ${preset} --img-size ${imgSize} --batch ${batch} --blr ${blr}`,
  majority_baseline: majority,
  unlabelled_faces: set.unlabelledFaces,
  probe: {
    faces: set.faces,
    counts,
    labels: `pseudo-labels: ${set.source}, top emotion 'happy' = smiling`,
    split: cmp.split,
  },
  pretrain: {
    preset,
    img_size: Number(imgSize),
    batch: Number(batch),
    steps,
    blr: Number(blr),
    seconds: pretrainSeconds,
    probe_seconds: probeSeconds,
    probe_share: probeSeconds / pretrainSeconds,
  },
  monitor: series,
  comparison: cmp.rows.map((r) => ({ encoder: r.name, knn_top1: r.knn, linear_top1: r.linear })),
};
writeFileSync(join(repo, 'bench', 'probe-quality.json'), `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(
  `probe set: ${set.faces} real faces, ${counts.smiling} smiling / ${counts['not-smiling']} not (pseudo-labels from the face models' expression model); ${cmp.split}\n`,
);
process.stdout.write(
  `pre-training: ${preset}/${imgSize}, ${steps} steps on ${set.unlabelledFaces} unlabelled faces, ${pretrainSeconds.toFixed(0)} s (the probe monitor ${((100 * probeSeconds) / pretrainSeconds).toFixed(1)} % of it)\n`,
);
process.stdout.write(`${cmp.split}; always answering the larger class scores ${majority.toFixed(3)}\n`);
for (const r of cmp.rows)
  process.stdout.write(`  ${r.name.padEnd(26)} k-NN ${r.knn.toFixed(3)}   linear ${r.linear.toFixed(3)}\n`);
