// The parts that make runs crash-safe: store schema v2 and dead-run detection, the folder lock
// across processes, atomic writes and stale temporaries, retention, epoch plans, label checks.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Store } from '../../trainer/src/store/store.js';
import { MIGRATIONS } from '../../trainer/src/store/migrations.js';
import { FolderLock } from '../../trainer/src/util/folder-lock.js';
import { currentProcess, processState } from '../../trainer/src/util/process-identity.js';
import { removeStaleTemps, writeFileAtomic } from '../../trainer/src/util/atomic-file.js';
import { RunFolder } from '../../trainer/src/train/run-folder.js';
import { epochPlan } from '../../trainer/src/finetune/run.js';
import {
  checkDuplicates,
  parseCelebA,
  relativeToRoot,
  CELEBA_ATTRIBUTES,
} from '../../trainer/src/labels/label-files.js';
import { tempDir } from '../support/folders.js';

describe('store schema v2', () => {
  it('migrates a v1 store in place: runs, metrics and checkpoints survive, new states and columns exist', () => {
    const file = join(tempDir('store'), 'camd.db');
    const v1 = new Database(file);
    v1.exec(MIGRATIONS[0]!);
    v1.pragma('user_version = 1');
    v1.prepare(
      "INSERT INTO runs (id, kind, config, status, seed, created_at) VALUES ('r1', 'pretrain', '{}', 'running', 0, 'now')",
    ).run();
    v1.prepare("INSERT INTO metrics (run_id, name, step, epoch, value) VALUES ('r1', 'loss', 1, 0.1, 2.5)").run();
    v1.prepare(
      "INSERT INTO checkpoints (run_id, step, kind, path, sha256, bytes, created_at) VALUES ('r1', 1, 'full', '/x', 'ab', 1, 'now')",
    ).run();
    v1.close();
    const s = new Store(file);
    expect(s.schemaVersion()).toBe(MIGRATIONS.length);
    expect(s.run('r1')).toMatchObject({ status: 'running', pid: null, host: null });
    expect(s.metrics(['r1'])).toEqual([{ run_id: 'r1', name: 'loss', step: 1, epoch: 0.1, value: 2.5 }]);
    expect(s.checkpoints('r1')).toHaveLength(1);
    s.updateRun('r1', { status: 'interrupted' });
    s.addCheckpoint({ run_id: 'r1', step: 2, kind: 'classifier', path: '/y', sha256: 'cd', bytes: 1 });
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(s.db.pragma('foreign_key_check')).toEqual([]);
    s.db.prepare("DELETE FROM runs WHERE id = 'r1'").run(); // cascades still work after the rebuild
    expect(s.metrics(['r1'])).toEqual([]);
    expect(s.checkpoints('r1')).toEqual([]);
    s.close();
  });

  it('marks runs of processes that are gone as interrupted, and leaves live ones and other hosts alone', async () => {
    const s = new Store(join(tempDir('store'), 'camd.db'));
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    await new Promise((r) => child.once('spawn', r));
    const gonePid = await new Promise<number>((res) => {
      const c = spawn(process.execPath, ['-e', '0']);
      c.once('exit', () => res(c.pid!));
    });
    for (const id of ['dead', 'live', 'me', 'remote', 'reused', 'old'])
      s.createRun({ id, kind: 'pretrain', config: {}, seed: 0 });
    s.claimRun('dead', { pid: gonePid, host: hostname(), start: null });
    s.claimRun('live', { pid: child.pid!, host: hostname(), start: null });
    s.claimRun('me', currentProcess());
    s.claimRun('remote', { pid: gonePid, host: 'another-machine', start: null });
    s.claimRun('reused', { ...currentProcess(), start: currentProcess().start === null ? null : 'boot:1' }); // our pid, another process's start token
    s.updateRun('old', { status: 'running' }); // a run recorded before v2: no pid
    const reaped = s
      .reapDeadRuns()
      .map((r) => r.id)
      .sort();
    expect(reaped).toEqual(currentProcess().start === null ? ['dead'] : ['dead', 'reused']);
    expect(s.run('dead')).toMatchObject({
      status: 'interrupted',
      error: expect.stringMatching(`pid ${gonePid} on ${hostname()}`) as unknown as string,
    });
    expect(s.run('live')!.status).toBe('running');
    expect(s.run('me')!.status).toBe('running');
    expect(s.run('remote')!.status).toBe('running');
    expect(s.run('old')!.status).toBe('running');
    expect(processState({ pid: child.pid!, host: hostname() })).toBe('alive');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(processState({ pid: child.pid!, host: hostname() })).toBe('gone');
    expect(s.reapDeadRuns().map((r) => r.id)).toEqual(['live']);
    s.close();
  });
});

describe('folder lock', () => {
  it('one holder at a time across processes; released on exit; taken over from a killed holder', async () => {
    const dir = tempDir('lock');
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      const { FolderLock } = await import(${JSON.stringify(new URL('../../trainer/dist/util/folder-lock.js', import.meta.url).href)});
      globalThis.held = FolderLock.acquire(${JSON.stringify(dir)}, 'test holder'); // kept alive: a collected connection would drop the lock
      process.stdout.write('held\\n');
      setTimeout(() => {}, 60000);
    `,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((res) => holder.stdout.once('data', () => res()));
      expect(() => FolderLock.acquire(dir, 'test')).toThrow(
        new RegExp(`is in use by process ${holder.pid} on .* \\(test holder, since `),
      );
      expect(FolderLock.holder(dir)).toMatchObject({ pid: holder.pid, command: 'test holder' });
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
      const mine = FolderLock.acquire(dir, 'test');
      expect(mine.previousHolder).toMatchObject({ pid: holder.pid });
      expect(() => FolderLock.acquire(dir, 'again')).toThrow(/is in use by process/); // not re-entrant
      mine.release();
      expect(existsSync(FolderLock.infoFile(dir))).toBe(false);
      FolderLock.acquire(dir, 'after release').release();
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

describe('run folder', () => {
  it('removes temporaries of other processes, not its own; moves damaged checkpoints aside; retention keeps the protected file', () => {
    const dir = tempDir('rf');
    const f = new RunFolder(dir);
    f.create();
    writeFileAtomic(join(f.checkpointsDir, 'step-00000001.ckpt'), Buffer.from('a'));
    writeFileSync(join(f.checkpointsDir, '.step-00000002.ckpt.tmp-999999'), Buffer.alloc(10));
    writeFileSync(join(f.checkpointsDir, `.step-00000003.ckpt.tmp-${process.pid}`), Buffer.alloc(10));
    expect(removeStaleTemps(f.checkpointsDir)).toEqual({
      files: [join(f.checkpointsDir, '.step-00000002.ckpt.tmp-999999')],
      bytes: 10,
    });
    expect(readdirSync(f.checkpointsDir).sort()).toEqual([
      `.step-00000003.ckpt.tmp-${process.pid}`,
      'step-00000001.ckpt',
    ]);
    for (const s of [2, 3, 4]) writeFileSync(join(f.checkpointsDir, `step-0000000${s}.ckpt`), 'x');
    const q = f.quarantine(join(f.checkpointsDir, 'step-00000004.ckpt'));
    expect(q.endsWith('step-00000004.ckpt.corrupt')).toBe(true);
    expect(f.checkpoints().map((p) => p.split('/').pop())).toEqual([
      'step-00000003.ckpt',
      'step-00000002.ckpt',
      'step-00000001.ckpt',
    ]);
    const removed = f.prune(1, new Set([join(f.checkpointsDir, 'step-00000001.ckpt')]));
    expect(removed.map((p) => p.split('/').pop()).sort()).toEqual(['step-00000002.ckpt', 'step-00000004.ckpt.corrupt']);
    expect(f.checkpoints().map((p) => p.split('/').pop())).toEqual(['step-00000003.ckpt', 'step-00000001.ckpt']);
  });
});

describe('fine-tuning epochs', () => {
  it('drop the last partial batch as the reference, except in sets smaller than four batches', () => {
    expect(epochPlan(278, 16)).toEqual({ stepsPerEpoch: 17, droppedPerEpoch: 6, keptPartial: false });
    expect(epochPlan(60, 32)).toEqual({ stepsPerEpoch: 2, droppedPerEpoch: 0, keptPartial: true });
    expect(epochPlan(64, 32)).toEqual({ stepsPerEpoch: 2, droppedPerEpoch: 0, keptPartial: false });
    expect(epochPlan(130, 32)).toEqual({ stepsPerEpoch: 4, droppedPerEpoch: 2, keptPartial: false });
  });
});

describe('label checks', () => {
  it('a conflicting duplicate names both lines; an identical one is dropped with a note', () => {
    const root = tempDir('dup');
    mkdirSync(join(root, 'Anno'));
    mkdirSync(join(root, 'Eval'));
    const v = (x: number) => Array.from({ length: 40 }, (_, i) => (i === 31 ? x : -1)).join(' ');
    writeFileSync(
      join(root, 'Anno', 'list_attr_celeba.txt'),
      `3\n${CELEBA_ATTRIBUTES.join(' ')}\na.jpg ${v(1)}\nb.jpg ${v(1)}\na.jpg ${v(-1)}\n`,
    );
    writeFileSync(join(root, 'Eval', 'list_eval_partition.txt'), 'a.jpg 0\nb.jpg 0\n');
    expect(() => checkDuplicates(parseCelebA(root))).toThrow(
      /list_attr_celeba\.txt:5: img_align_celeba\/a\.jpg is listed twice with different labels \(attributes Smiling differ\): .*list_attr_celeba\.txt:3 and .*list_attr_celeba\.txt:5$/,
    );
    writeFileSync(
      join(root, 'Anno', 'list_attr_celeba.txt'),
      `3\n${CELEBA_ATTRIBUTES.join(' ')}\na.jpg ${v(1)}\nb.jpg ${v(1)}\na.jpg ${v(1)}\n`,
    );
    const s = checkDuplicates(parseCelebA(root));
    expect(s.items).toHaveLength(2);
    expect(s.warnings).toEqual(['1 repeated line(s) with the same label ignored']);
  });

  it('paths of a label file: relative kept, absolute inside the root made relative, outside refused', () => {
    expect(relativeToRoot('a/b.jpg', '/data/set', 'l.csv', 2)).toBe('a/b.jpg');
    expect(relativeToRoot('/data/set/a/b.jpg', '/data/set', 'l.csv', 2)).toBe('a/b.jpg');
    expect(() => relativeToRoot('../b.jpg', '/data/set', 'l.csv', 3)).toThrow(
      /^l\.csv:3: '\.\.\/b\.jpg' is outside the dataset root \/data\/set/,
    );
    expect(() => relativeToRoot('/etc/passwd', '/data/set', 'l.csv', 4)).toThrow(/outside the dataset root/);
  });
});
