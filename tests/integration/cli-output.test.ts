// What `camd` shows: the last lines in a terminal, warnings about a run's configuration, and
// configuration errors before any work.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { faceFolder, tempDir } from '../support/folders.js';
import { expressionFolders } from '../support/rendered-faces.js';
import { CAMD, camd, of } from '../support/cli.js';

const MICRO = ['--preset', 'micro', '--batch', '4', '--warmup-epochs', '0', '--blr', '0.05'];

/** Runs camd in a pseudo-terminal (util-linux `script`), as a person at a terminal sees it. */
function inTerminal(args: string[]): { status: number | null; text: string } {
  const cmd = [process.execPath, CAMD, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qefc', cmd, '/dev/null'], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, COLUMNS: '160' },
  });
  // drop terminal control sequences
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences (ESC [ …) are what it removes
  return { status: r.status, text: (r.stdout + r.stderr).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '') };
}

describe('in a terminal', () => {
  it('pretrain shows every checkpoint line and the closing line after the progress bar', () => {
    const data = faceFolder(12, 'tty');
    const out = join(tempDir('run'), 'tty');
    const db = join(tempDir('db'), 'camd.db');
    const r = inTerminal([
      'pretrain',
      ...MICRO,
      '--data',
      data,
      '--steps',
      '4',
      '--checkpoint-every',
      '2',
      '--out',
      out,
      '--db',
      db,
    ]);
    expect(r.status, r.text).toBe(0);
    expect(r.text).toContain(`checkpoint at step 2: ${join(out, 'checkpoints', 'step-00000002.ckpt')}`);
    expect(r.text).toContain(`checkpoint at step 4: ${join(out, 'checkpoints', 'step-00000004.ckpt')}`);
    expect(r.text).toMatch(/done: 4 steps in \d+ s; encoder .*encoder\.safetensors/);
    const stopped = inTerminal(['pretrain', '--resume', out, '--steps', '8']);
    expect(stopped.status).toBe(2); // the computation is fixed: one line in the terminal too
    expect(stopped.text.trim()).toMatch(/^camd: --steps 8 differs from the resumed run's 4/);
  });

  it('finetune shows its evaluations and the closing line', async () => {
    const folders = await expressionFolders(8, 3);
    const r = inTerminal([
      'finetune',
      '--task',
      'fer',
      '--format',
      'folders',
      '--data',
      folders,
      '--init',
      'none',
      '--preset',
      'micro',
      '--epochs',
      '2',
      '--batch',
      '8',
      '--out',
      join(tempDir('run'), 'ftty'),
      '--db',
      join(tempDir('db'), 'camd.db'),
    ]);
    expect(r.status, r.text).toBe(0);
    expect(r.text).toMatch(/epoch 2 test top1: \d+\.\d\d %/);
    expect(r.text).toMatch(/done: epoch \d selected by validation; test top1 there/);
  });
});

describe('configuration checked before the work', () => {
  it('an image size the preset cannot use is refused before any image is decoded', () => {
    const data = faceFolder(12, 'imgsize');
    const r = camd([
      'pretrain',
      '--json',
      ...MICRO,
      '--img-size',
      '50',
      '--data',
      data,
      '--out',
      join(tempDir('run'), 'x'),
      '--db',
      join(tempDir('db'), 'camd.db'),
    ]);
    expect(r.status).toBe(2);
    expect(of(r.events, 'progress')).toEqual([]); // neither indexed nor decoded
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a warm-up that covers most of a short run is pointed out', () => {
    const data = faceFolder(12, 'warm');
    const r = camd([
      'pretrain',
      '--json',
      '--preset',
      'micro',
      '--batch',
      '4',
      '--data',
      data,
      '--steps',
      '6',
      '--out',
      join(tempDir('run'), 'w'),
      '--db',
      join(tempDir('db'), 'camd.db'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    // 12 images, batch 4: 3 steps an epoch; the default 5-epoch warm-up is 15 steps of a 6-step run
    expect(r.stderr).toContain(
      'camd: warning: the warm-up (5 epoch(s) = 15 steps) covers 100 % of this 6-step run: the learning rate peaks at 40 % of its value; for a short run, lower --warmup-epochs',
    );
    const quiet = camd([
      'pretrain',
      '--json',
      ...MICRO,
      '--data',
      data,
      '--steps',
      '6',
      '--out',
      join(tempDir('run'), 'w2'),
      '--db',
      join(tempDir('db'), 'camd.db'),
    ]);
    expect(of(quiet.events, 'log').filter((e) => e['level'] === 'warn')).toEqual([]);
  });
});
