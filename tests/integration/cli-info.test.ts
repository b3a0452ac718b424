// The real `camd` command, as a user runs it (built by `npm test` before vitest starts).
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CAMD = fileURLToPath(new URL('../../trainer/bin/camd.js', import.meta.url));

function camd(args: string[]) {
  return spawnSync(process.execPath, [CAMD, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('camd info', () => {
  it('--json is an object keyed by backend name, with wasm picked by auto here', () => {
    const out = execFileSync(process.execPath, [CAMD, 'info', '--json'], { encoding: 'utf8', timeout: 60_000 });
    const info = JSON.parse(out) as Record<
      string,
      {
        loaded: boolean;
        selectedByAuto: boolean;
        reason: string | null;
        packages: { package: string; version: string | null; installed: boolean }[];
      }
    >;
    expect(Object.keys(info).sort()).toEqual(['cpu', 'tensorflow', 'wasm', 'webgpu']);
    expect(info['wasm']!.loaded).toBe(true);
    expect(info['cpu']!.loaded).toBe(true);
    expect(info['wasm']!.packages[0]!.version).toBe('4.22.0');
    const autos = Object.entries(info).filter(([, v]) => v.selectedByAuto);
    expect(autos.length).toBe(1);
    // tfjs-node(-gpu) cannot install on this machine (no libtensorflow download): the reason says so
    // the webgpu rung is there with its package; without an adapter it says why
    expect(info['webgpu']!.packages[0]!.package).toBe('@tensorflow/tfjs-backend-webgpu');
    if (!info['webgpu']!.loaded)
      expect(info['webgpu']!.reason).toMatch(/no GPU adapter|software adapter|not installed/);
    if (!info['tensorflow']!.loaded && !info['webgpu']!.loaded) {
      expect(autos[0]![0]).toBe('wasm');
      expect(info['tensorflow']!.reason).toMatch(/tfjs-node-gpu/);
      expect(info['tensorflow']!.packages.map((p) => p.package)).toEqual([
        '@tensorflow/tfjs-node-gpu',
        '@tensorflow/tfjs-node',
      ]);
    }
  });

  it('human output lists every rung and the auto choice', () => {
    const r = camd(['info']);
    expect(r.status).toBe(0);
    for (const s of ['tfjs-node-gpu', 'tfjs-node', 'tfjs-backend-wasm', 'tfjs-backend-cpu', '--backend auto uses:'])
      expect(r.stdout).toContain(s);
    expect(r.stdout).not.toContain('Hi, looks like');
  });

  it('an unknown command or flag is one usage line and a non-zero exit, no stack trace', () => {
    const r = camd(['info', '--bogus']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown option '--bogus'/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const r2 = camd(['frobnicate']);
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toMatch(/unknown command/);
  });
});

describe('camd selftest and --backend', () => {
  it('auto picks wasm here, says why the native rungs were skipped, and trains', () => {
    const r = camd(['selftest', '--json', '--steps', '2']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      backend: string;
      skipped: string[];
      steps: { loss: number }[];
      liveTensors: number;
    };
    expect(out.backend).toBe('wasm');
    expect(out.skipped.some((s) => s.startsWith('@tensorflow/tfjs-node-gpu: '))).toBe(true);
    expect(out.steps).toHaveLength(2);
    expect(out.steps.every((s) => Number.isFinite(s.loss))).toBe(true);
  });
  it('a backend that cannot load is one plain line and exit 2', () => {
    const r = camd(['selftest', '--backend', 'tensorflow']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^camd: backend tensorflow is not available: /);
    const r2 = camd(['selftest', '--backend', 'metal']);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/--backend must be auto, tensorflow, webgpu, wasm or cpu/);
  });
});
