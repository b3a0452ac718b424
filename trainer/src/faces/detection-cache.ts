/**
 * Face detections per photo, cached by the photo's content hash and the detector (a JSON file
 * each, beside the store): a photo seen before is not run through the models again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RgbImage } from '../data/image-io.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { cacheDirFor, defaultDbPath } from '../util/paths.js';
import { detectorId } from './model-files.js';
import type { DetectedFace, FaceDetector } from './detector.js';

export interface CachedDetections {
  detector: string;
  width: number;
  height: number;
  faces: DetectedFace[];
}

export class DetectionCache {
  /** Photos run through the detector, and photos whose detections came from the cache. */
  computed = 0;
  cached = 0;
  /** Time spent detecting (and decoding for it). */
  seconds = 0;
  /** Made on the first photo that needs it (loading the models takes a while). */
  private det: FaceDetector | null = null;

  /** `detector`: detectorId(tiles), the key a cached entry must match. */
  constructor(
    private readonly dir: string,
    private readonly detector: string,
    private readonly tiles: number,
    private readonly wasmThreads: number | 'auto' | undefined,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** The photo's detections: cached, or detected on `decode()`'s pixels and cached. */
  async of(sha256: string, decode: () => Promise<RgbImage>): Promise<CachedDetections> {
    const cacheFile = join(this.dir, `${sha256}.json`);
    let result: CachedDetections | null = null;
    if (existsSync(cacheFile)) {
      try {
        const c = JSON.parse(readFileSync(cacheFile, 'utf8')) as CachedDetections;
        if (c.detector === this.detector && Array.isArray(c.faces)) result = c;
      } catch {
        result = null; // unreadable cache entry: detect again
      }
    }
    if (result) this.cached++;
    else {
      const t0 = performance.now();
      this.det ??= await (await import('./detector.js')).FaceDetector.create(
        this.wasmThreads !== undefined ? { wasmThreads: this.wasmThreads } : {},
      );
      const im = await decode();
      result = {
        detector: this.detector,
        width: im.width,
        height: im.height,
        faces: await this.det.detect(im, { tiles: this.tiles }),
      };
      this.seconds += (performance.now() - t0) / 1000;
      writeFileAtomic(cacheFile, Buffer.from(JSON.stringify(result)));
      this.computed++;
    }
    return result;
  }
}

/**
 * The faces of image files through the default store's detection cache (beside it, as `camd scan
 * --faces` keeps it): a photo seen before — by any command, in any folder — is not run through the
 * models again. The pseudo-labellers use it, so that labelling a folder for a second task, or a
 * copy of it, reads what the first found.
 */
export function defaultDetections(): (bytes: Buffer, decode: () => Promise<RgbImage>) => Promise<DetectedFace[]> {
  const cache = new DetectionCache(join(cacheDirFor(defaultDbPath()), 'faces'), detectorId(1), 1, undefined);
  return async (bytes, decode) => (await cache.of(createHash('sha256').update(bytes).digest('hex'), decode)).faces;
}
