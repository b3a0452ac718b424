// The optional TensorFlow backends are found in this package's node_modules, else in
// $CAMD_BACKENDS_DIR (where the desktop app's users install them): a real package folder, loaded
// by the same code path the backend ladder uses.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/folders.js';
import { findOptional, importOptional } from '../../trainer/src/backends/optional-packages.js';

function installFake(dir: string, name: string, version: string): void {
  const pkg = join(dir, 'node_modules', ...name.split('/'));
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name, version, main: 'dist/index.js' }));
  writeFileSync(
    join(pkg, 'dist', 'index.js'),
    `exports.loadedFrom = __dirname; exports.version = ${JSON.stringify(version)};`,
  );
}

describe('optional backend packages', () => {
  it('absent here and no $CAMD_BACKENDS_DIR: not found', () => {
    expect(findOptional('@camd-test/gpu-backend', {})).toBeNull();
    expect(findOptional('@camd-test/gpu-backend', { CAMD_BACKENDS_DIR: tempDir('empty-backends') })).toBeNull();
  });

  it('installed in $CAMD_BACKENDS_DIR: found with its version and folder, and loaded from there', async () => {
    const dir = tempDir('backends');
    // (a stand-in name: the real tfjs-node-gpu may be installed in this checkout, and would come first)
    installFake(dir, '@camd-test/gpu-backend', '4.22.0');
    const found = findOptional('@camd-test/gpu-backend', { CAMD_BACKENDS_DIR: dir });
    expect(found).toMatchObject({
      name: '@camd-test/gpu-backend',
      version: '4.22.0',
      external: true,
      dir: join(dir, 'node_modules', '@camd-test', 'gpu-backend'),
    });
    const mod = (await importOptional(found!)) as { loadedFrom: string; version: string };
    expect(mod.loadedFrom).toBe(join(found!.dir, 'dist'));
  });

  it("this package's own copy comes first", () => {
    const own = findOptional('@tensorflow/tfjs-backend-wasm', { CAMD_BACKENDS_DIR: tempDir('backends2') });
    expect(own).toMatchObject({ external: false, version: '4.22.0' });
  });
});
