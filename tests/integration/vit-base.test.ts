// ViT-B/224, the paper's model, on the wasm backend (issue #15; README "Memory on the wasm backend"):
// one real pre-training step at batch 4 through `camd pretrain` on real faces, inside the 4 GiB
// wasm heap, then a fine-tuning epoch at 112 px that starts from its encoder. Slow (a minute or two on two
// cores, with a 2 GB checkpoint), and it runs in CI.
import { describe, expect, it } from 'vitest';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { camd } from '../support/cli.js';
import { faceFolder, tempDir } from '../support/folders.js';
import { expressionFolders } from '../support/rendered-faces.js';
import { WASM_HEAP_MAX } from '../../trainer/src/model/memory.js';

const of = (evs: { type: string }[], t: string) => evs.filter((e) => e.type === t) as Record<string, unknown>[];

describe('ViT-B/224 on the wasm backend', () => {
  it('pre-trains one step at batch 4 and fine-tunes from its encoder', async () => {
    const data = faceFolder(8, 'base-faces');
    const db = join(tempDir('base-db'), 'camd.db');
    const out = join(tempDir('base-run'), 'pretrain');
    const r = camd([
      'pretrain',
      '--json',
      '--data',
      data,
      '--preset',
      'base',
      '--img-size',
      '224',
      '--batch',
      '4',
      '--steps',
      '1',
      '--backend',
      'wasm',
      '--out',
      out,
      '--db',
      db,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const start = of(r.events, 'start')[0]!;
    expect(start).toMatchObject({ backend: 'wasm', preset: 'base', img_size: 224, batch: 4, recompute: false });
    expect(start['wasm_heap_estimate_bytes'] as number).toBeLessThan(WASM_HEAP_MAX);
    const step = of(r.events, 'step')[0]!;
    expect(Number.isFinite(step['loss'] as number)).toBe(true);
    expect(of(r.events, 'done')[0]).toMatchObject({ reason: 'completed' });
    const encoder = join(out, 'encoder.safetensors');
    expect(statSync(encoder).size).toBeGreaterThan(4 * 85e6); // ViT-B's 86 M encoder weights
    // fine-tuning from it: 3 expressions × 4 rendered faces, one epoch at batch 4, at 112 px (its
    // pos_embed interpolated to the 7×7 grid: the ViT-B/224 step above is what the heap must hold)
    const faces = await expressionFolders(4, 1);
    const ft = camd([
      'finetune',
      '--json',
      '--task',
      'fer',
      '--format',
      'folders',
      '--data',
      faces,
      '--init',
      encoder,
      '--img-size',
      '112',
      '--epochs',
      '1',
      '--batch',
      '4',
      '--aa',
      'none',
      '--backend',
      'wasm',
      '--out',
      join(tempDir('base-ft'), 'ft'),
      '--db',
      db,
    ]);
    expect(ft.status, ft.stderr).toBe(0);
    expect(of(ft.events, 'start')[0]).toMatchObject({ backend: 'wasm', init: encoder });
    expect(String(of(ft.events, 'start')[0]!['pos_embed'])).toMatch(/7×7 \(was 14×14\)|from 14×14 to 7×7/);
    expect(of(ft.events, 'done')[0]).toMatchObject({ reason: 'completed' });
    // the 2 GB checkpoint is not kept past the test
    for (const f of [out]) if (existsSync(f)) rmSync(f, { recursive: true, force: true });
  }, 900_000);
});
