// electron-builder with our config (build/electron-builder.yml), for real, as far as a machine
// without the Electron binary allows: the `dir` target over a stand-in Electron folder, without
// the two steps that need Electron itself (flipping the fuses in its binary, rebuilding
// better-sqlite3 against its headers: both in the release checklist). What is checked is the
// package the installers are made of — the app.asar and what is unpacked beside it.
import { beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { tempDir } from '../support/folders.js';

const require = createRequire(import.meta.url);
const ROOT = join(import.meta.dirname, '..', '..');
const yaml = require('js-yaml') as { load(s: string): Record<string, unknown> };
const asar = require('@electron/asar') as {
  listPackage(p: string, o?: unknown): string[];
  extractFile(p: string, f: string): Buffer;
  statFile(p: string, f: string): { unpacked?: boolean };
};
const config = yaml.load(readFileSync(join(ROOT, 'build', 'electron-builder.yml'), 'utf8'));

let resources: string;
let archive: string;
let files: Set<string>;

beforeAll(async () => {
  for (const built of [
    'electron/dist/main.js',
    'electron/dist/preload.cjs',
    'renderer/dist/index.html',
    'trainer/dist/cli/main.js',
  ]) {
    if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run \`npm run build\` first`);
  }
  const out = tempDir('package');
  const dist = join(out, 'electron-standin');
  mkdirSync(join(dist, 'resources'), { recursive: true });
  writeFileSync(join(dist, 'electron'), '#!/bin/sh\necho "a stand-in for the Electron binary"\n');
  chmodSync(join(dist, 'electron'), 0o755);
  const { build, Platform } = require('electron-builder') as typeof import('electron-builder');
  const cfg = {
    ...config,
    electronDist: dist,
    npmRebuild: false,
    directories: { ...(config['directories'] as object), output: join(out, 'out') },
  } as Record<string, unknown>;
  delete cfg['electronFuses'];
  await build({
    projectDir: ROOT,
    targets: Platform.LINUX.createTarget('dir'),
    config: cfg as never,
    publish: 'never',
  });
  resources = join(out, 'out', 'linux-unpacked', 'resources');
  archive = join(resources, 'app.asar');
  files = new Set(asar.listPackage(archive).map((f) => f.replaceAll('\\', '/')));
}, 300_000);

describe('the package (electron-builder, dir target)', () => {
  it('holds the built app — main, preload, renderer, trainer — and no sources, maps, tests or benchmarks', () => {
    for (const f of [
      '/package.json',
      '/electron/dist/main.js',
      '/electron/dist/preload.cjs',
      '/electron/dist/shell/start.js',
      '/renderer/dist/index.html',
      '/trainer/bin/camd.js',
      '/trainer/dist/cli/main.js',
      '/trainer/dist/cli/worker.js',
    ])
      expect(files.has(f), f).toBe(true);
    const ours = [...files].filter((f) => !f.includes('/node_modules/'));
    expect(ours.filter((f) => /\.(ts|map)$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(
      ours.filter(
        (f) =>
          /^\/(tests|bench|trainer\/src|electron\/shell\/|renderer\/src|\.ci|build)\b/.test(f) ||
          f.endsWith('/electron/dist/bench-app.js'),
      ),
    ).toEqual([]);
    const pkg = JSON.parse(asar.extractFile(archive, 'package.json').toString()) as { main: string; type: string };
    expect(pkg.main).toBe('electron/dist/main.js');
    expect(pkg.type).toBe('module');
  });

  it('every module the main process, the trainer and the worker import is in the package', () => {
    // the import graph from each entry, by the relative specifiers and package names in the built files
    const seen = new Set<string>();
    const missing: string[] = [];
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      if (!files.has(file)) return void missing.push(file);
      const src = asar.extractFile(archive, file.slice(1)).toString();
      for (const m of src.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g))
        walk(posix.join(posix.dirname(file), m[1]!));
      for (const m of src.matchAll(
        /(?:from\s+|import\s*\(\s*|import\s+)['"]((?:@[a-z0-9-]+\/)?[a-z0-9][a-z0-9._-]*)(?:\/[^'"]*)?['"]/g,
      )) {
        const name = m[1]!;
        if (['electron', 'camd-studio'].includes(name) || name.startsWith('node:')) continue;
        if (!files.has(`/node_modules/${name}/package.json`)) missing.push(`${name} (imported by ${file})`);
      }
    };
    for (const entry of ['/electron/dist/main.js', '/trainer/dist/cli/main.js']) walk(entry);
    expect(seen.size).toBeGreaterThan(60);
    // the optional backends are looked for at run time, never bundled
    expect(missing.filter((m) => !/^@tensorflow\/tfjs-node(-gpu)? /.test(m))).toEqual([]);
  });

  it("every packaged module's entry point is there", () => {
    const missing: string[] = [];
    for (const f of files) {
      const m = /^(.*\/node_modules\/((?:@[^/]+\/)?[^/]+))\/package\.json$/.exec(f);
      if (!m) continue;
      const meta = JSON.parse(asar.extractFile(archive, f.slice(1)).toString()) as {
        main?: unknown;
        exports?: unknown;
        types?: unknown;
        typings?: unknown;
      };
      if (!meta.main && (meta.types !== undefined || meta.typings !== undefined)) continue; // type declarations only
      const entry = typeof meta.main === 'string' && meta.main ? meta.main : 'index.js';
      if (meta.exports !== undefined && typeof meta.main !== 'string') continue; // exports maps: the import walk above
      const main = posix.join(m[1]!, entry);
      const candidates = [main, `${main}.js`, `${main}.json`, `${main}.node`, posix.join(main, 'index.js')];
      if (!candidates.some((c) => files.has(c))) missing.push(`${m[2]} → ${entry}`);
    }
    expect(missing.filter((x) => !x.startsWith('@types/'))).toEqual([]);
  });

  it('native code unpacked beside the archive (better-sqlite3, sharp and its @img builds, our addons, wasm, Dawn and ONNX Runtime for this platform only)', () => {
    const nodeFiles = [...files].filter((f) => f.endsWith('.node'));
    expect(nodeFiles.length).toBeGreaterThan(2);
    for (const f of nodeFiles) {
      expect(asar.statFile(archive, f.slice(1)).unpacked, f).toBe(true);
      expect(existsSync(join(resources, 'app.asar.unpacked', f)), f).toBe(true);
    }
    expect(nodeFiles.some((f) => f.includes('/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
    expect(nodeFiles.some((f) => /\/@img\/sharp-[a-z0-9-]+\/lib\/sharp-[a-z0-9-]+\.node$/.test(f))).toBe(true);
    if (existsSync(join(ROOT, 'trainer/native/build/Release/camd_ops.node')))
      expect(nodeFiles).toContain('/trainer/native/build/Release/camd_ops.node');
    expect(
      existsSync(
        join(
          resources,
          'app.asar.unpacked/node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js',
        ),
      ),
    ).toBe(true);
    const dawn = [...files]
      .filter((f) => f.startsWith('/node_modules/webgpu/dist/'))
      .map((f) => f.split('/')[4])
      .filter(Boolean);
    expect(new Set(dawn)).toEqual(new Set([`${process.platform}-${process.arch}`]));
    // ONNX Runtime: this platform's binding and the library it loads from beside it, unpacked; no other platform's
    const ort = [...files].filter((f) => f.startsWith('/node_modules/onnxruntime-node/bin/'));
    expect(new Set(ort.map((f) => f.split('/').slice(5, 7).join('/')).filter((p) => p.includes('/')))).toEqual(
      new Set([`${process.platform}/${process.arch}`]),
    );
    const here = `node_modules/onnxruntime-node/bin/napi-v6/${process.platform}/${process.arch}`;
    expect(existsSync(join(resources, 'app.asar.unpacked', here, 'onnxruntime_binding.node'))).toBe(true);
    if (process.platform === 'linux')
      expect(existsSync(join(resources, 'app.asar.unpacked', here, 'libonnxruntime.so.1'))).toBe(true);
  });

  it('the GPU backends are not bundled', () => {
    expect([...files].filter((f) => f.startsWith('/node_modules/@tensorflow/tfjs-node'))).toEqual([]);
  });

  it('the native rebuild step `npm run dist` runs (@electron/rebuild, which declares Node ≥ 22.12) works on this Node', async () => {
    // npm warns EBADENGINE for @electron/rebuild 4 and its node-abi on Node 20; this is the helper
    // electron-builder forks for `npmRebuild`, run as it runs it, over an app with no native module
    // (a real rebuild needs Electron's headers from the network: the release checklist's step).
    const app = tempDir('rebuild');
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'rebuild-check', version: '1.0.0' }));
    const helper = join(dirname(require.resolve('app-builder-lib/package.json')), 'helpers', 'remote-rebuild.js');
    const options = {
      buildPath: app,
      electronVersion: '40.10.2',
      arch: process.arch,
      platform: process.platform,
      projectRootPath: app,
      mode: 'sequential',
      disablePreGypCopy: true,
    };
    const { fork } = await import('node:child_process');
    const child = fork(helper, [JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
    const messages: string[] = [];
    let stderr = '';
    child.on(
      'message',
      (m: { msg: string; err?: { message: string } }) =>
        void messages.push(m.err ? `${m.msg}: ${m.err.message}` : m.msg),
    );
    child.stderr!.on('data', (b: Buffer) => void (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect({ code, messages, stderr }).toEqual({ code: 0, messages: ['rebuild-done'], stderr: '' });
  }, 60_000);

  it('fuses, targets and rebuild as the release needs them', () => {
    expect(config['electronFuses']).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
      loadBrowserProcessSpecificV8Snapshot: false,
    });
    expect((config['linux'] as { target: string[] }).target).toEqual(['AppImage', 'deb']);
    expect((config['mac'] as { target: string }).target).toBe('dmg');
    expect((config['win'] as { target: string }).target).toBe('nsis');
    expect(config['npmRebuild']).toBe(true);
    expect(config['asar']).toBe(true);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(pkg.devDependencies['electron']).toBe('40.10.2');
    // the renderer's libraries are bundled by vite: none of them ships as a node module
    for (const lib of ['vue', 'pinia', 'vue-router', 'uplot', '@tanstack/vue-virtual'])
      expect(pkg.dependencies[lib], lib).toBeUndefined();
    expect(dirname(archive)).toBe(resources);
  });
});
