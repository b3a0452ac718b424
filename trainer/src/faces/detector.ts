/**
 * Face detection and landmarks with the models that ship inside the npm package
 * `@vladmandic/human` (MIT): BlazeFace boxes → FaceMesh (468 points) + iris (10 points) on the
 * rotation-corrected face, and, as suggestions only, its age/gender (faceres) and expression
 * (emotion) models. Nothing is downloaded: the models are read from the package's `models/`
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
import { blockAverage, type FivePoints, type Point } from './align.js';
import { selectBackend } from '../backends/ladder.js';
import { facePackageDir } from './model-files.js';
import { repeatedDetections } from './repeats.js';
export { FACE_PACKAGE, detectorId, facePackageDir, facePackageVersion } from './model-files.js';

const require = createRequire(import.meta.url);

/** Longest side of the image the detector sees; larger photos are averaged down by a whole factor. */
export const DETECT_MAX_SIDE = 1024;

export interface DetectedFace {
  /** Combined detection × mesh confidence in [0, 1]. */
  score: number;
  /** Box around the landmarks, photo pixels: x, y, width, height. */
  box: [number, number, number, number];
  points: FivePoints;
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
  detect(input: tf.Tensor): Promise<{ face: HumanFace[]; error?: string | null }>;
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

// MediaPipe FaceMesh indices (with refined iris): iris centres, nose tip, mouth corners.
const RIGHT_IRIS = 468; // the subject's right eye (image left in a frontal face)
const LEFT_IRIS = 473;
const RIGHT_EYE_CORNERS = [33, 133];
const LEFT_EYE_CORNERS = [263, 362];
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
  async detect(img: RgbImage, o: { tiles?: number } = {}): Promise<DetectedFace[]> {
    const n = Math.max(1, Math.floor(o.tiles ?? 1));
    const found = await this.detectIn(img);
    if (n > 1) {
      const tw = Math.min(img.width, Math.ceil((img.width / n) * 1.25));
      const th = Math.min(img.height, Math.ceil((img.height / n) * 1.25));
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          const x0 = Math.round((i * (img.width - tw)) / (n - 1));
          const y0 = Math.round((j * (img.height - th)) / (n - 1));
          for (const f of await this.detectIn(subImage(img, x0, y0, tw, th))) found.push(shifted(f, x0, y0));
        }
      }
      const repeats = repeatedDetections(found);
      return found.filter((_, k) => !repeats.has(k));
    }
    return found;
  }

  private async detectIn(img: RgbImage): Promise<DetectedFace[]> {
    // the detector works on 256×256 (boxes) and 192×192 (mesh) views: a photo larger than
    // DETECT_MAX_SIDE is averaged over n×n blocks first, and the results scaled back by n
    const n = Math.max(1, Math.ceil(Math.max(img.width, img.height) / DETECT_MAX_SIDE));
    const small = squared(n > 1 ? blockAverage(img, { x0: 0, y0: 0, x1: img.width, y1: img.height }, n) : img);
    const input = tf.tidy(() => tf.tensor4d(small.data, [1, small.height, small.width, 3], 'int32'));
    let res: Awaited<ReturnType<HumanInstance['detect']>>;
    try {
      res = await this.human.detect(input);
    } finally {
      input.dispose();
    }
    if (res.error) throw new Error(`face detector: ${res.error}`);
    const out: DetectedFace[] = [];
    for (const f of res.face) {
      if (f.mesh.length < 478) continue; // no landmarks: not usable for alignment
      const p = (i: number): Point => [f.mesh[i]![0] * n, f.mesh[i]![1] * n];
      const mid = (a: number, b: number): Point => [(p(a)[0] + p(b)[0]) / 2, (p(a)[1] + p(b)[1]) / 2];
      // the iris centre when the iris model placed it between the eye corners, else the corners' midpoint
      const eye = (iris: number, corners: number[]): Point => {
        const c = mid(corners[0]!, corners[1]!);
        const q = p(iris);
        const w = Math.hypot(p(corners[0]!)[0] - p(corners[1]!)[0], p(corners[0]!)[1] - p(corners[1]!)[1]);
        return Math.hypot(q[0] - c[0], q[1] - c[1]) < 0.5 * w ? q : c;
      };
      const xs = f.mesh.slice(0, 468).map((m) => m[0] * n);
      const ys = f.mesh.slice(0, 468).map((m) => m[1] * n);
      const x0 = Math.min(...xs),
        y0 = Math.min(...ys);
      const deg = (r: number | undefined) => Math.round(((r ?? 0) * 180 * 10) / Math.PI) / 10;
      out.push({
        score: f.score,
        box: [x0, y0, Math.max(...xs) - x0, Math.max(...ys) - y0],
        points: {
          rightEye: eye(RIGHT_IRIS, RIGHT_EYE_CORNERS),
          leftEye: eye(LEFT_IRIS, LEFT_EYE_CORNERS),
          nose: p(NOSE_TIP),
          rightMouth: p(RIGHT_MOUTH),
          leftMouth: p(LEFT_MOUTH),
        },
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
