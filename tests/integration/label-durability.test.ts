// A kill -9 during a burst of label writes loses nothing that was acknowledged: a real process
// writes labels as fast as it can (one action per transaction, acknowledged on stdout after the
// commit, as the app's service answers after the write) and is killed at random moments; the
// store is then checked: intact, and every acknowledged action there.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Store } from '../../trainer/src/store/store.js';
import * as L from '../../trainer/src/labels/index.js';
import { tempDir } from '../support/folders.js';

const DIST = join(import.meta.dirname, '..', '..', 'trainer', 'dist');

const WRITER = `
import { Store } from ${JSON.stringify(pathToFileURL(join(DIST, 'store', 'store.js')).href)};
import { writeLabels } from ${JSON.stringify(pathToFileURL(join(DIST, 'labels', 'annotate.js')).href)};
const [db, schema, images, classes] = process.argv.slice(1);
const store = new Store(db);
const ids = images.split(',').map(Number);
const cls = classes.split(',').map(Number);
let k = 0;
for (;;) {
  const image = ids[(k * 7) % ids.length];
  const value = cls[(k * 5 + Math.floor(k / ids.length)) % cls.length];
  const r = writeLabels(store.db, { schemaId: Number(schema), imageIds: [image], labeller: 'burst', changes: [{ slot: 0, value }] });
  if (r.batch !== null) process.stdout.write('ack ' + r.batch + ' ' + image + ' ' + value + '\\n');
  k++;
}
`;

describe('label writes under kill -9', () => {
  it('every acknowledged action is in the store after a kill at a random moment (5 kills)', async () => {
    const file = join(tempDir('burst'), 'camd.db');
    const store = new Store(file);
    const d = store.ensureDataset(tempDir('burst-faces'), 'faces');
    store.applyScan(
      d.id,
      Array.from({ length: 40 }, (_, i) => ({
        rel_path: `${i}.jpg`,
        bytes: 1,
        mtime_ms: 1,
        width: 8,
        height: 8,
        format: 'jpeg',
        sha256: createHash('sha256').update(String(i)).digest('hex'),
        status: 'ok' as const,
        error: null,
      })),
      [],
    );
    const s = L.createSchema(store.db, { datasetId: d.id, template: 'rafdb7' });
    const images = store.images(d.id).map((r) => r.id);
    store.close();
    const acked: { batch: number; image: number; value: number }[] = [];
    for (let round = 0; round < 5; round++) {
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          WRITER,
          file,
          String(s.id),
          images.join(','),
          s.fields.map((f) => f.id).join(','),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const want = 150 + Math.floor(Math.random() * 300);
      let n = 0;
      const exited = new Promise<void>((res) => child.on('exit', () => res()));
      await new Promise<void>((res) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          const [, b, i, v] = line.split(' ');
          acked.push({ batch: Number(b), image: Number(i), value: Number(v) });
          if (++n === want) {
            child.kill('SIGKILL');
            res();
          }
        });
        child.on('exit', () => res());
      });
      await exited;
      expect(n, stderr).toBeGreaterThanOrEqual(want); // lines already written arrive after the kill: acknowledged too
    }
    const after = new Store(file);
    expect(after.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const logged = new Set(after.db.prepare('SELECT DISTINCT batch FROM annotation_log').pluck().all() as number[]);
    expect(acked.filter((a) => !logged.has(a.batch))).toEqual([]);
    // each face holds its last acknowledged value, or a later (unacknowledged) one
    const lastAcked = new Map<number, { batch: number; value: number }>();
    for (const a of acked) lastAcked.set(a.image, a);
    const current = new Map(
      (
        after.db.prepare("SELECT image_id, value FROM annotations WHERE labeller = 'burst'").all() as {
          image_id: number;
          value: number;
        }[]
      ).map((r) => [r.image_id, r.value]),
    );
    for (const [image, a] of lastAcked) {
      if (current.get(image) === a.value) continue;
      const later = after.db
        .prepare('SELECT count(*) FROM annotation_log WHERE image_id = ? AND batch > ?')
        .pluck()
        .get(image, a.batch) as number;
      expect(
        later,
        `face ${image}: acknowledged ${a.value} in batch ${a.batch}, found ${current.get(image)}`,
      ).toBeGreaterThan(0);
    }
    expect(acked.length).toBeGreaterThanOrEqual(750);
    after.close();
  });
});
