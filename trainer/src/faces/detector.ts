/**
 * Face detection and landmarks with the models that ship inside the npm package
 * `@vladmandic/human` (MIT): BlazeFace boxes → FaceMesh (468 points) + iris (10 points) on the
 * rotation-corrected face, read again on the upright crop until the eye line settles; FaceRes's
 * face description (to tell people apart) and, as suggestions only, its age/gender and the
 * expression (emotion) model. Nothing is downloaded: the models are read from the package's `models/`
 * folder through a tfjs load router limited to that folder. Runs on the trainer's wasm rung.
 *
 * Each photo is judged on its own: Human's video-frame caching and frame skipping are off, so a
 * result depends on the pixels only (the same photo gives the same faces, run after run).
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { RgbImage } from '../data/image-io.js';
import { alignmentFor, blockAverage, toCrop, warpAligned, type FivePoints, type Point } from './align.js';
import { selectBackend } from '../backends/ladder.js';
import { facePackageDir } from './model-files.js';
import { meshTo68 } from '../geometry/mesh68.js';
import { repeatedDetections } from './repeats.js';
export { FACE_PACKAGE, detectorId, facePackageDir, facePackageVersion } from './model-files.js';

const require = createRequire(import.meta.url);

/** Longest side of the image the detector sees; larger photos are averaged down by a whole factor. */
export const DETECT_MAX_SIDE = 1024;
/** The upright crop the landmarks are read again on: its side and margin (the face spans half of it). */
const REFINE_SIDE = 256;
const REFINE_MARGIN = 0.5;
/** At most this many readings on the upright crop; one that turns the eye line less than REFINE_SETTLED° ends them. */
const REFINE_PASSES = 3;
const REFINE_SETTLED = 0.5;

export interface DetectedFace {
  /**
   * Confidence in [0, 1] that this is a face: the geometric mean of the box detector's and the face
   * mesh's own confidences, so that both models must agree (the second look: a baboon's eye or a
   * cartoon fish convinces the mesh, 0.62–0.68, but not the box detector, 0.46–0.48).
   */
  score: number;
  /** BlazeFace's confidence in the box, and FaceMesh's in the face. */
  boxScore: number;
  meshScore: number;
  /**
   * How far the last reading of the landmarks on the upright crop still turned the eye line, degrees
   * (see `refine`): more than EYE_LINE_UNSURE (eye-line.ts) and the crop's eyes may not be level.
   */
  eyeLineShift: number;
  /** FaceRes's 1024-d face description (for telling people apart), three decimals; absent in old caches. */
  embedding?: number[];
  /** Box around the landmarks, photo pixels: x, y, width, height. */
  box: [number, number, number, number];
  points: FivePoints;
  /**
   * The 68 iBUG/300W landmarks (geometry/mesh68.ts), photo pixels, from the same reading as `points`:
   * pseudo-labels for face alignment, not annotations.
   */
  landmarks68: Point[];
  /**
   * FaceMesh's 468 points, photo pixels, from the same reading: only when `detect` is asked for them
   * (`{ mesh: true }`, the parsing pseudo-labels); never stored in the detection cache.
   */
  mesh?: Point[];
  /** Head pose from the mesh, degrees. */
  pose: { roll: number; yaw: number; pitch: number };
  /** The bundled models' guesses, for the annotation view; never labels. */
  suggestions: {
    age: number | null;
    gender: string | null;
    genderScore: number | null;
    emotion: { emotion: string; score: number }[];
  };
}

interface HumanFace {
  score: number;
  boxScore?: number;
  faceScore?: number;
  embedding?: number[];
  box: [number, number, number, number];
  mesh: [number, number, number?][];
  rotation?: { angle: { roll: number; yaw: number; pitch: number } } | null;
  age?: number;
  gender?: string;
  genderScore?: number;
  emotion?: { score: number; emotion: string }[];
}
interface HumanInstance {
  load(): Promise<void>;
  init(): Promise<void>;
  detect(input: tf.Tensor, config?: object): Promise<{ face: HumanFace[]; error?: string | null }>;
  version: string;
}

let routerFor: string | null = null;

/** One of the package's bundled graph models (faceres.json, …), read through the router below: nothing is fetched. */
export async function loadPackageModel(name: string): Promise<tf.GraphModel> {
  const modelsDir = join(facePackageDir(), 'models');
  registerModelRouter(modelsDir);
  return tf.loadGraphModel(`file://${join(modelsDir, name)}`);
}

/** A tfjs load handler for `file://` URLs inside the package's models folder only. */
function registerModelRouter(modelsDir: string): void {
  if (routerFor === modelsDir) return;
  routerFor = modelsDir;
  const none = null as unknown as tf.io.IOHandler; // "not mine": tfjs asks the next router
  tf.io.registerLoadRouter((url: string | string[]): tf.io.IOHandler => {
    const u = Array.isArray(url) ? url[0] : url;
    if (typeof u !== 'string' || !u.startsWith('file://')) return none;
    const file = resolve(u.slice('file://'.length));
    if (!file.startsWith(modelsDir + sep)) return none;
    return {
      load: async () => {
        const j = JSON.parse(readFileSync(file, 'utf8')) as {
          modelTopology: object;
          format?: string;
          generatedBy?: string;
          convertedBy?: string;
          signature?: object;
          userDefinedMetadata?: Record<string, object>;
          weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
        };
        const specs: tf.io.WeightsManifestEntry[] = [];
        const parts: Buffer[] = [];
        for (const g of j.weightsManifest) {
          specs.push(...g.weights);
          for (const p of g.paths) {
            const f = resolve(dirname(file), p);
            if (!f.startsWith(modelsDir + sep))
              throw new Error(`model ${file} names a weights file outside its folder`);
            parts.push(readFileSync(f));
          }
        }
        const all = Buffer.concat(parts);
        return {
          modelTopology: j.modelTopology,
          format: j.format,
          generatedBy: j.generatedBy,
          convertedBy: j.convertedBy,
          signature: j.signature,
          userDefinedMetadata: j.userDefinedMetadata,
          weightSpecs: specs,
          weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
        };
      },
    };
  });
}

// MediaPipe FaceMesh indices (the eye contours as the iris model refines them): the eye contours
// (16 points around each eye's opening; the subject's right eye is the image's left in a frontal
// face), nose tip, mouth corners.
const RIGHT_EYE_RING = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246];
const LEFT_EYE_RING = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466];
const NOSE_TIP = 1;
const RIGHT_MOUTH = 61;
const LEFT_MOUTH = 291;

export class FaceDetector {
  private constructor(private readonly human: HumanInstance) {}

  /** Loads the models (about 0.1 s) on the wasm rung, selecting it when needed. */
  static async create(opts: { wasmThreads?: number | 'auto' } = {}): Promise<FaceDetector> {
    if (tf.getBackend() !== 'wasm')
      await selectBackend('wasm', opts.wasmThreads !== undefined ? { wasmThreads: opts.wasmThreads } : {});
    const dir = facePackageDir();
    const modelsDir = join(dir, 'models');
    registerModelRouter(modelsDir);
    const H = require(join(dir, 'dist', 'human.node-wasm.js')) as { Human: new (config: object) => HumanInstance };
    const human = new H.Human({
      backend: 'wasm',
      wasmPath: dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + sep,
      modelBasePath: `file://${modelsDir}${sep}`,
      cacheModels: false,
      cacheSensitivity: 0, // no reuse of a previous "frame": every photo on its own
      skipAllowed: false,
      warmup: 'none',
      debug: false,
      filter: { enabled: false },
      gesture: { enabled: false },
      body: { enabled: false },
      hand: { enabled: false },
      object: { enabled: false },
      segmentation: { enabled: false },
      face: {
        enabled: true,
        detector: {
          rotation: true,
          maxDetected: 50,
          minConfidence: 0.2,
          iouThreshold: 0.1,
          return: false,
          skipFrames: 0,
          skipTime: 0,
        },
        mesh: { enabled: true },
        iris: { enabled: true },
        attention: { enabled: false },
        emotion: { enabled: true, skipFrames: 0, skipTime: 0 },
        description: { enabled: true, skipFrames: 0, skipTime: 0 },
        antispoof: { enabled: false },
        liveness: { enabled: false },
      },
    });
    // The wasm backend already runs (ours: its threads, its kernels). Human's first backend check
    // also makes its constants and custom ops, which it needs, but begins by setting the wasm
    // paths, which tfjs refuses once the backend is up: that one call is made a no-op while it loads.
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths: (...args: unknown[]) => void };
    const setWasmPaths = wasm.setWasmPaths;
    wasm.setWasmPaths = () => undefined;
    try {
      await human.load();
      await human.init();
    } finally {
      wasm.setWasmPaths = setWasmPaths;
    }
    return new FaceDetector(human);
  }

  /**
   * Every face of a decoded photo, in photo pixels. With `tiles` = n > 1 the photo is also read as
   * n×n overlapping tiles (each a quarter wider and taller than its share), so that faces too small
   * for BlazeFace's 256-px view of the whole photo are found too; a face seen twice is kept once
   * (the higher score).
   */
  async detect(img: RgbImage, o: { tiles?: number; mesh?: boolean } = {}): Promise<DetectedFace[]> {
    const n = Math.max(1, Math.floor(o.tiles ?? 1));
    const mesh = o.mesh === true;
    // one view: its faces are described there. With tiles, a face is seen in up to five views: the
    // views give boxes and landmarks only, and each face kept is described once, on its upright
    // crop (`refine`)
    const found = await this.detectIn(img, { describe: n === 1, mesh });
    if (n > 1) {
      const tw = Math.min(img.width, Math.ceil((img.width / n) * 1.25));
      const th = Math.min(img.height, Math.ceil((img.height / n) * 1.25));
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          const x0 = Math.round((i * (img.width - tw)) / (n - 1));
          const y0 = Math.round((j * (img.height - th)) / (n - 1));
          for (const f of await this.detectIn(subImage(img, x0, y0, tw, th), { describe: false, mesh }))
            found.push(shifted(f, x0, y0));
        }
      }
      const repeats = repeatedDetections(found);
      return this.refined(
        img,
        found.filter((_, k) => !repeats.has(k)),
        { mesh, describe: true },
      );
    }
    return this.refined(img, found, { mesh, describe: false });
  }

  /** Every face refined (`refine`); `describe`: described on the first upright crop. */
  private async refined(
    img: RgbImage,
    faces: DetectedFace[],
    o: { mesh: boolean; describe: boolean },
  ): Promise<DetectedFace[]> {
    const out: DetectedFace[] = [];
    for (const f of faces) out.push(await this.refine(img, f, o));
    return out;
  }

  /**
   * The face's landmarks read again on its upright crop, in photo pixels, until the eye line stops
   * turning. FaceMesh reads a tilted face through a rotation estimated from BlazeFace's rough eye
   * points; on heads tilted 20–30° its first eye points were 10–16° off the eye line (the group
   * photos of bench/faces-quality.mjs). Each reading on the crop that the previous points give leaves
   * less rotation to guess: up to `REFINE_PASSES` readings, stopping once a reading turns the eye line
   * by less than `REFINE_SETTLED` degrees. A crop that gives no face keeps the points it has.
   * With `describe` (a photo read in tiles), the first reading also describes the face (FaceRes's
   * embedding, age, gender; the expression) on that crop: describing every view of every face took
   * 28 s of 45 on screenshot-facematch.jpg's 127 faces in 3×3 tiles; once per face, 35 s in all.
   */
  private async refine(
    img: RgbImage,
    first: DetectedFace,
    { mesh, describe }: { mesh: boolean; describe: boolean },
  ): Promise<DetectedFace> {
    let f = first;
    for (let pass = 0; pass < REFINE_PASSES; pass++) {
      const a = alignmentFor(f.points, REFINE_SIDE, REFINE_MARGIN);
      const again = await this.detectIn(warpAligned(img, a), { describe: describe && pass === 0, mesh });
      const near = nearestTo(again, toCrop(a, eyeMid(f.points)), REFINE_SIDE / 8);
      if (!near) return describe && pass === 0 ? await this.describedInPhoto(img, f) : f;
      const back = (q: Point): Point => [
        a.origin[0] + q[0] * a.ax[0] + q[1] * a.ay[0],
        a.origin[1] + q[0] * a.ax[1] + q[1] * a.ay[1],
      ];
      const q = near.points;
      const points: FivePoints = {
        rightEye: back(q.rightEye),
        leftEye: back(q.leftEye),
        nose: back(q.nose),
        rightMouth: back(q.rightMouth),
        leftMouth: back(q.leftMouth),
      };
      const shift = angleBetween(eyeVector(f.points), eyeVector(points));
      f = {
        ...f,
        points,
        landmarks68: near.landmarks68.map(back),
        ...(near.mesh ? { mesh: near.mesh.map(back) } : {}),
        ...(describe && pass === 0 ? descriptionOf(near) : {}),
        eyeLineShift: shift,
      };
      if (shift < REFINE_SETTLED) break;
    }
    return f;
  }

  /**
   * A face its upright crop does not show again (small faces of a group photo, some turned ones:
   * 21 of 127 on screenshot-facematch.jpg), described on a square of the photo around it, six times
   * its size (three times described 5 of the 21, six times 19): the face as it was found, with the
   * models' description of it.
   */
  private async describedInPhoto(img: RgbImage, f: DetectedFace): Promise<DetectedFace> {
    const side = Math.min(img.width, img.height, Math.ceil(6 * Math.max(f.box[2], f.box[3], 16)));
    const mid = eyeMid(f.points);
    const x0 = Math.round(Math.min(img.width - side, Math.max(0, mid[0] - side / 2)));
    const y0 = Math.round(Math.min(img.height - side, Math.max(0, mid[1] - side / 2)));
    // alone on grey: the neighbours of a crowd would each be described too
    const view = subImage(img, x0, y0, side, side);
    const cx = f.box[0] + f.box[2] / 2 - x0;
    const cy = f.box[1] + f.box[3] / 2 - y0;
    const r2 = (0.9 * Math.max(f.box[2], f.box[3], 16)) ** 2;
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++)
        if ((x - cx) ** 2 + (y - cy) ** 2 > r2) view.data.fill(128, (y * side + x) * 3, (y * side + x) * 3 + 3);
    const near = nearestTo(
      (await this.detectIn(view)).map((g) => shifted(g, x0, y0)),
      mid,
      side / 8,
    );
    return near ? { ...f, ...descriptionOf(near) } : f;
  }

  /** `describe: false` leaves out the expression and description models (boxes and landmarks only). */
  private async detectIn(img: RgbImage, o: { describe?: boolean; mesh?: boolean } = {}): Promise<DetectedFace[]> {
    // the detector works on 256×256 (boxes) and 192×192 (mesh) views: a photo larger than
    // DETECT_MAX_SIDE is averaged over n×n blocks first, and the results scaled back by n
    const n = Math.max(1, Math.ceil(Math.max(img.width, img.height) / DETECT_MAX_SIDE));
    const small = squared(n > 1 ? blockAverage(img, { x0: 0, y0: 0, x1: img.width, y1: img.height }, n) : img);
    const input = tf.tidy(() => tf.tensor4d(small.data, [1, small.height, small.width, 3], 'int32'));
    let res: Awaited<ReturnType<HumanInstance['detect']>>;
    try {
      res = await this.human.detect(
        input,
        // Human keeps what a call's config sets: both models are set on every call
        { face: { emotion: { enabled: o.describe !== false }, description: { enabled: o.describe !== false } } },
      );
    } finally {
      input.dispose();
    }
    if (res.error) throw new Error(`face detector: ${res.error}`);
    const out: DetectedFace[] = [];
    for (const f of res.face) {
      if (f.mesh.length < 478) continue; // no landmarks: not usable for alignment
      const p = (i: number): Point => [f.mesh[i]![0] * n, f.mesh[i]![1] * n];
      const ring = (idx: number[]): Point => {
        let x = 0,
          y = 0;
        for (const i of idx) [x, y] = [x + p(i)[0], y + p(i)[1]];
        return [x / idx.length, y / idx.length];
      };
      // the eyes' centres: the mean of each eye's contour (16 points; the iris model's centre, one
      // point, strayed further on small and turned faces)
      const rightEye = ring(RIGHT_EYE_RING);
      const leftEye = ring(LEFT_EYE_RING);
      const xs = f.mesh.slice(0, 468).map((m) => m[0] * n);
      const ys = f.mesh.slice(0, 468).map((m) => m[1] * n);
      const x0 = Math.min(...xs),
        y0 = Math.min(...ys);
      const deg = (r: number | undefined) => Math.round(((r ?? 0) * 180 * 10) / Math.PI) / 10;
      const boxScore = f.boxScore ?? f.score;
      const meshScore = f.faceScore ?? f.score;
      out.push({
        score: Math.sqrt(boxScore * meshScore),
        boxScore,
        meshScore,
        eyeLineShift: 0,
        ...(f.embedding?.length ? { embedding: f.embedding.map((v) => Math.round(v * 1000) / 1000) } : {}),
        box: [x0, y0, Math.max(...xs) - x0, Math.max(...ys) - y0],
        points: {
          rightEye,
          leftEye,
          nose: p(NOSE_TIP),
          rightMouth: p(RIGHT_MOUTH),
          leftMouth: p(LEFT_MOUTH),
        },
        landmarks68: meshTo68(f.mesh).map(([x, y]): Point => [x * n, y * n]),
        ...(o.mesh ? { mesh: f.mesh.slice(0, 468).map(([x, y]): Point => [x * n, y * n]) } : {}),
        pose: {
          roll: deg(f.rotation?.angle.roll),
          yaw: deg(f.rotation?.angle.yaw),
          pitch: deg(f.rotation?.angle.pitch),
        },
        suggestions: {
          age: typeof f.age === 'number' ? Math.round(f.age * 10) / 10 : null,
          gender: f.gender && f.gender !== 'unknown' ? f.gender : null,
          genderScore: typeof f.genderScore === 'number' ? f.genderScore : null,
          emotion: (f.emotion ?? []).map((e) => ({ emotion: e.emotion, score: e.score })),
        },
      });
    }
    return out;
  }
}

const eyeMid = (p: FivePoints): Point => [(p.leftEye[0] + p.rightEye[0]) / 2, (p.leftEye[1] + p.rightEye[1]) / 2];

/** The face whose eyes' midpoint is nearest `at`, if within `within` pixels of it. */
function nearestTo(faces: readonly DetectedFace[], at: Point, within: number): DetectedFace | undefined {
  return faces
    .map((g) => ({ g, d: Math.hypot(eyeMid(g.points)[0] - at[0], eyeMid(g.points)[1] - at[1]) }))
    .filter((x) => x.d < within)
    .sort((x, y) => x.d - y.d)[0]?.g;
}

/** What the description models said of a face: the suggestions, and the embedding where there is one. */
function descriptionOf(g: DetectedFace): Pick<DetectedFace, 'suggestions' | 'embedding'> {
  return { suggestions: g.suggestions, ...(g.embedding ? { embedding: g.embedding } : {}) };
}
const eyeVector = (p: FivePoints): Point => [p.leftEye[0] - p.rightEye[0], p.leftEye[1] - p.rightEye[1]];

/** The angle between two vectors, degrees (0–180). */
function angleBetween(a: Point, b: Point): number {
  const d = Math.abs(Math.atan2(a[0] * b[1] - a[1] * b[0], a[0] * b[0] + a[1] * b[1]));
  return Math.round(((d * 180) / Math.PI) * 10) / 10;
}

function subImage(img: RgbImage, x0: number, y0: number, w: number, h: number): RgbImage {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    out.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + w) * 3), y * w * 3);
  return { width: w, height: h, data: out };
}

function shifted(f: DetectedFace, dx: number, dy: number): DetectedFace {
  const p = (q: Point): Point => [q[0] + dx, q[1] + dy];
  const s = f.points;
  return {
    ...f,
    box: [f.box[0] + dx, f.box[1] + dy, f.box[2], f.box[3]],
    points: {
      rightEye: p(s.rightEye),
      leftEye: p(s.leftEye),
      nose: p(s.nose),
      rightMouth: p(s.rightMouth),
      leftMouth: p(s.leftMouth),
    },
    landmarks68: f.landmarks68.map(p),
    ...(f.mesh ? { mesh: f.mesh.map(p) } : {}),
  };
}

/**
 * The photo on a square canvas (grey to the right or below; coordinates unchanged): BlazeFace
 * reads a 256×256 view, and a wide or tall photo squeezed into it loses the faces that the
 * squeeze makes narrow (measured: one face of three in a 1080×420 group photo, three with this).
 */
export function squared(img: RgbImage): RgbImage {
  if (img.width === img.height) return img;
  const S = Math.max(img.width, img.height);
  const out = new Uint8Array(S * S * 3).fill(128);
  for (let y = 0; y < img.height; y++)
    out.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), y * S * 3);
  return { width: S, height: S, data: out };
}
