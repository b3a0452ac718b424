/** The app's package folder (where package.json names camd-studio), from any module of it, built or not. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'camd-studio')
      return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`package.json of camd-studio not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The `camd` launcher the services start workers and tools with. */
export function camdBin(): string {
  return join(packageRoot(), 'trainer', 'bin', 'camd.js');
}
