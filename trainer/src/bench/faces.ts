/**
 * `npm run bench -- --faces DIR`: faces found and aligned per second on the wasm rung (decode →
 * detect → align + crop + PNG), over the photos of DIR, each photo timed once after one warm-up.
 * Writes JSON (default bench/faces.json) and prints a line with the time a 10 000-photo folder
 * would take at that rate. Then the whole ingest as `camd scan --faces` does it (a fresh store):
 * a first scan, and a re-scan of the unchanged folder (detections from the cache, crops reused).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { decodeRgb, IMAGE_EXTENSIONS } from '../data/image-io.js';
import { FaceDetector, detectorId } from '../faces/detector.js';
import { alignmentFor, warpAligned } from '../faces/align.js';
import { FACES_DEFAULTS } from '../protocol/defaults.js';
import { nativeBlas, nativeOps } from '../backends/native.js';
import { median } from '../util/stats.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Store } from '../store/store.js';
import { ingestFaces } from '../faces/ingest.js';

export async function benchFaces(dir: string, outFile: string): Promise<void> {
  const files = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(dir, f));
  if (files.length === 0) throw new Error(`no image in ${dir}`);
  const t0 = performance.now();
  const det = await FaceDetector.create();
  const loadMs = performance.now() - t0;
  await det.detect(await decodeRgb(readFileSync(files[0]!))); // warm-up: kernels compiled, buffers made
  const per: { decode: number; detect: number; crop: number; faces: number; pixels: number }[] = [];
  for (const f of files) {
    const a = performance.now();
    const img = await decodeRgb(readFileSync(f));
    const b = performance.now();
    const faces = (await det.detect(img)).filter((x) => x.score >= FACES_DEFAULTS.minScore);
    const c = performance.now();
    for (const x of faces) {
      const crop = warpAligned(img, alignmentFor(x.points, FACES_DEFAULTS.size, FACES_DEFAULTS.margin));
      await sharp(Buffer.from(crop.data.buffer), { raw: { width: crop.width, height: crop.height, channels: 3 } })
        .png()
        .toBuffer();
    }
    const d = performance.now();
    per.push({ decode: b - a, detect: c - b, crop: d - c, faces: faces.length, pixels: img.width * img.height });
    process.stderr.write(
      `[bench] faces ${per.length}/${files.length}: ${faces.length} face(s), ${(d - a).toFixed(0)} ms\n`,
    );
  }
  const total = per.reduce((s, p) => s + p.decode + p.detect + p.crop, 0) / 1000;
  // the whole ingest, twice: a first scan and a re-scan of the unchanged folder
  const work = mkdtempSync(join(tmpdir(), 'camd-bench-faces-'));
  const store = new Store(join(work, 'camd.db'));
  let ingest;
  try {
    const i0 = performance.now();
    const first = await ingestFaces(store, dir);
    const i1 = performance.now();
    const again = await ingestFaces(store, dir);
    const i2 = performance.now();
    ingest = {
      first_seconds: (i1 - i0) / 1000,
      rescan_seconds: (i2 - i1) / 1000,
      kept: first.faces.kept,
      rescan_detections: again.detections,
      rescan_crops: again.crops,
    };
  } finally {
    store.close();
    rmSync(work, { recursive: true, force: true });
  }
  const faces = per.reduce((s, p) => s + p.faces, 0);
  const out = {
    kind: 'camd-faces',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? 'unknown',
      memory_bytes: totalmem(),
      node: process.versions.node,
      tfjs: tf.version_core,
      backend: tf.getBackend(),
      native_ops: nativeOps().ops !== null,
      native_blas: nativeBlas().blas !== null,
    },
    detector: detectorId(),
    settings: { size: FACES_DEFAULTS.size, margin: FACES_DEFAULTS.margin, min_score: FACES_DEFAULTS.minScore },
    photos: files.length,
    faces,
    megapixels_median: median(per.map((p) => p.pixels / 1e6)),
    model_load_ms: loadMs,
    ms_median: {
      decode: median(per.map((p) => p.decode)),
      detect: median(per.map((p) => p.detect)),
      crop_per_face: median(per.filter((p) => p.faces).map((p) => p.crop / p.faces)),
    },
    seconds: total,
    photos_per_s: files.length / total,
    faces_per_s: faces / total,
    minutes_for_10000_photos: 10000 / (files.length / total) / 60,
    ingest,
  };
  const file = resolve(outFile);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(
    `faces at ingest (${out.detector}, ${tf.getBackend()}, ${cpus().length} CPU cores): ${files.length} photos (median ${out.megapixels_median.toFixed(2)} MP), ${faces} faces in ${total.toFixed(1)} s\n` +
      `  ${out.photos_per_s.toFixed(1)} photos/s, ${out.faces_per_s.toFixed(1)} faces/s; per photo (median): decode ${out.ms_median.decode.toFixed(0)} ms, detect ${out.ms_median.detect.toFixed(0)} ms; align + crop + PNG ${out.ms_median.crop_per_face.toFixed(0)} ms per face\n` +
      `  a 10 000-photo folder at this rate: ${out.minutes_for_10000_photos.toFixed(0)} min\n` +
      `  camd scan --faces on the folder: ${ingest.first_seconds.toFixed(1)} s; again, nothing changed: ${ingest.rescan_seconds.toFixed(2)} s (${ingest.rescan_crops.reused} crop(s) reused, ${ingest.rescan_crops.made} made)\n`,
  );
}
