import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Store } from '../../trainer/src/store/store.js';
import {
  deleteGeometryLabel,
  geometryLabel,
  geometryLabelsOfDataset,
  geometryLabelsOfImage,
  saveGeometryLabel,
} from '../../trainer/src/annotation/geometry-labels.js';
import { tempDir } from '../support/folders.js';

function storeWithImage() {
  const s = new Store(join(tempDir('geometry-labels'), 'camd.db'));
  const ds = s.ensureDataset('/faces', 'faces');
  const img = (rel: string, status: 'ok' | 'bad' = 'ok') => ({
    rel_path: rel,
    bytes: 1,
    mtime_ms: 1,
    width: 100,
    height: 80,
    format: 'jpeg',
    sha256: rel,
    status,
    error: null,
  });
  s.applyScan(ds.id, [img('b.jpg'), img('a.jpg'), img('bad.jpg', 'bad')], []);
  const id = (rel: string) => s.images(ds.id).find((i) => i.rel_path === rel)!.id;
  return { s, ds, id };
}

const pts19 = (): [number, number][] => Array.from({ length: 19 }, (_, i) => [i * 5, 40]);
const who = { labeller: 'ana', source: 'mesh' };

describe('geometry labels (store schema 6)', () => {
  it('saves, replaces, lists in path order and deletes one face geometry per image, task and scheme', () => {
    const { s, ds, id } = storeWithImage();
    saveGeometryLabel(s.db, id('b.jpg'), { task: 'landmarks', scheme: 'aflw-19', value: { points: pts19() } }, who);
    const moved = pts19();
    moved[3] = [12.5, 7.25];
    const again = saveGeometryLabel(
      s.db,
      id('b.jpg'),
      { task: 'landmarks', scheme: 'aflw-19', value: { points: moved } },
      { labeller: 'ana', source: 'hand' },
    );
    expect(again.source).toBe('hand');
    expect(again.task === 'landmarks' && again.value.points[3]).toEqual([12.5, 7.25]);
    saveGeometryLabel(s.db, id('a.jpg'), { task: 'landmarks', scheme: 'aflw-19', value: { points: pts19() } }, who);
    saveGeometryLabel(
      s.db,
      id('a.jpg'),
      { task: 'pose', scheme: 'ypr', value: { yaw: 30, pitch: -10, roll: 5, from: 'landmarks' } },
      who,
    );
    expect(geometryLabelsOfDataset(s.db, ds.id, 'landmarks', 'aflw-19').map((g) => g.relPath)).toEqual([
      'a.jpg',
      'b.jpg',
    ]);
    expect(geometryLabelsOfImage(s.db, id('a.jpg')).map((g) => g.task)).toEqual(['landmarks', 'pose']);
    expect(deleteGeometryLabel(s.db, id('a.jpg'), 'pose', 'ypr')).toBe(true);
    expect(geometryLabel(s.db, id('a.jpg'), 'pose', 'ypr')).toBeUndefined();
    s.close();
  });

  it('refuses wrong counts, points outside the image, angles out of range, unknown schemes and unreadable images in words', () => {
    const { s, id } = storeWithImage();
    const save =
      (w: Parameters<typeof saveGeometryLabel>[2], image = id('a.jpg')) =>
      () =>
        saveGeometryLabel(s.db, image, w, who);
    expect(save({ task: 'landmarks', scheme: '300w-68', value: { points: pts19() } })).toThrow(
      /300W \(iBUG 68 points\) has 68 points; got 19/,
    );
    const out = pts19();
    out[0] = [101, 3];
    expect(save({ task: 'landmarks', scheme: 'aflw-19', value: { points: out } })).toThrow(
      /point 1 .* outside the 100×80 image/,
    );
    expect(save({ task: 'pose', scheme: 'ypr', value: { yaw: 0, pitch: 95, roll: 0, from: 'hand' } })).toThrow(
      /pitch is degrees within ±90/,
    );
    expect(save({ task: 'landmarks', scheme: 'ibug-51' as never, value: { points: [] } })).toThrow(
      /'ibug-51' is not a landmarks scheme/,
    );
    expect(save({ task: 'landmarks', scheme: 'aflw-19', value: { points: pts19() } }, id('bad.jpg'))).toThrow(
      /not a readable image/,
    );
    expect(() =>
      saveGeometryLabel(
        s.db,
        id('a.jpg'),
        { task: 'pose', scheme: 'ypr', value: { yaw: 0, pitch: 0, roll: 0, from: 'hand' } },
        { labeller: 'ana', source: 'run:../x' },
      ),
    ).toThrow(/not a source/);
    s.close();
  });
});
