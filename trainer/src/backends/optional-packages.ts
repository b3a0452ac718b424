/**
 * Where the optional TensorFlow backends (@tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node) are
 * found: this package's own node_modules (a source checkout, `npm install`), else the folder named
 * by $CAMD_BACKENDS_DIR, where they were installed on their own (`npm install
 * @tensorflow/tfjs-node-gpu@4.22.0` in it). The desktop app does not bundle them (libtensorflow
 * with CUDA is ~1 GB and tied to the machine's CUDA); it points $CAMD_BACKENDS_DIR at
 * <userData>/backends. tfjs keeps its engine and kernel registry on the global object, so a
 * backend loaded from that folder registers with the trainer's tfjs.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const BACKENDS_DIR_ENV = 'CAMD_BACKENDS_DIR';

export interface FoundPackage {
  name: string;
  /** The package's folder. */
  dir: string;
  version: string;
  /** Its main entry (what `import` loads). */
  entry: string;
  /** true: from $CAMD_BACKENDS_DIR. */
  external: boolean;
}

function lookIn(from: string, name: string, external: boolean): FoundPackage | null {
  const req = createRequire(from);
  let entry: string;
  try {
    entry = req.resolve(name);
  } catch {
    return null;
  }
  // the package's folder: the nearest package.json above the entry that names it
  for (let dir = dirname(entry), i = 0; i < 8; i++, dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (!existsSync(pj)) continue;
    try {
      const meta = JSON.parse(readFileSync(pj, 'utf8')) as { name?: unknown; version?: unknown };
      if (meta.name === name && typeof meta.version === 'string')
        return { name, dir, version: meta.version, entry, external };
    } catch {
      return null;
    }
  }
  return null;
}

/** The folder of separately installed backends, if set. */
export function backendsDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const d = env[BACKENDS_DIR_ENV];
  return d?.trim() ? d : null;
}

export function findOptional(name: string, env: NodeJS.ProcessEnv = process.env): FoundPackage | null {
  const own = lookIn(import.meta.url, name, false);
  if (own) return own;
  const dir = backendsDir(env);
  return dir ? lookIn(join(dir, 'noop.js'), name, true) : null;
}

export async function importOptional(p: FoundPackage): Promise<unknown> {
  return p.external ? import(pathToFileURL(p.entry).href) : import(p.name);
}
