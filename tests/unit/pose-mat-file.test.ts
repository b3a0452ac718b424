// The MAT-file v5 reader and writer against scipy.io, the producer and reader of 300W-LP's and
// AFLW2000's annotations: files scipy.io.savemat writes (plain and zlib-compressed, with the fields
// and shapes of a 300W-LP .mat, doubles, singles and integers, a char and a struct variable beside
// them) read back to the same numbers; files formatMat writes load in scipy.io.loadmat unchanged.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/folders.js';
import { runScipy, scipyMissing } from '../support/scipy.js';
import { formatMat, matAt, matVariable, parseMat, readMat } from '../../trainer/src/geometry/mat-file.js';

if (scipyMissing) console.log(`[pose-mat-file] scipy tests skipped: ${scipyMissing}`);

describe.skipIf(scipyMissing !== null)('MAT-file v5 against scipy.io', () => {
  it.each([false, true])(
    'reads what scipy.io.savemat writes (do_compression=%s): 300W-LP fields and shapes, every numeric class',
    (compress) => {
      const dir = tempDir('mat');
      const file = join(dir, 'AFW_134212_1_0.mat');
      const want = runScipy<Record<string, { shape: number[]; flat: number[] }>>(
        `
rng = np.random.default_rng(3)
v = {
  'Pose_Para': np.array([[-0.2331, 0.6125, -0.0871, 230.1, 241.7, 98.3, 0.0012]]),
  'pt2d': rng.uniform(50, 400, (2, 68)),
  'Shape_Para': rng.normal(size=(199, 1)),
  'Exp_Para': rng.normal(size=(29, 1)).astype(np.float32),
  'roi': np.array([[12, 30, 420, 440]], dtype=np.int32),
  'small': np.array([[7]], dtype=np.uint8),
  'neg16': np.array([[-3, 2000]], dtype=np.int16),
  'cube': rng.normal(size=(2, 3, 4)),
  'note': 'a char array',
  'st': {'a': 1},
}
sio.savemat(data['file'], v, do_compression=data['compress'])
out = {k: {'shape': list(np.shape(a)), 'flat': np.asarray(a, dtype=np.float64).flatten(order='F').tolist()} for k, a in v.items() if k not in ('note', 'st')}
print(json.dumps(out))
`,
        { file, compress },
      );
      const mat = readMat(file);
      expect([...mat.variables.keys()].sort()).toEqual(Object.keys(want).sort());
      for (const [name, w] of Object.entries(want)) {
        const v = matVariable(mat, name);
        expect(v.dims).toEqual(w.shape);
        expect(Array.from(v.data)).toEqual(w.flat.map((x) => (name === 'Exp_Para' ? Math.fround(x) : x)));
      }
      expect(matVariable(mat, 'Exp_Para').cls).toBe('single');
      expect(matVariable(mat, 'roi').cls).toBe('int32');
      // element (r, c) of a 2×68 matrix: pt2d[1, 5] is y of point 5
      const pt2d = matVariable(mat, 'pt2d');
      expect(matAt(pt2d, 1, 5)).toBe(want['pt2d']!.flat[1 + 5 * 2]);
      expect(() => matVariable(mat, 'note')).toThrow(/note is a MATLAB char array/);
      expect(() => matVariable(mat, 'st')).toThrow(/st is a MATLAB struct array/);
      expect(() => matVariable(mat, 'Tex_Para')).toThrow(/no variable Tex_Para \(it has /);
    },
  );

  it.each([false, true])(
    'what formatMat writes (compress=%s) loads in scipy.io.loadmat with the same values and shapes',
    (compress) => {
      const file = join(tempDir('matw'), 'face.mat');
      const pose = [0.1, -0.5, 0.25, 0, 0, 0, 0];
      const pt2d = Array.from({ length: 2 * 68 }, (_, i) => i * 1.5 - 20.25);
      writeFileSync(
        file,
        formatMat(
          [
            { name: 'Pose_Para', rows: 1, cols: 7, rowMajor: pose },
            { name: 'pt2d', rows: 2, cols: 68, rowMajor: pt2d },
          ],
          { compress },
        ),
      );
      const got = runScipy<{ keys: string[]; pose: number[][]; pt2d: number[][]; dtype: string }>(
        `
m = sio.loadmat(data['file'])
print(json.dumps({'keys': sorted(k for k in m if not k.startswith('__')), 'pose': m['Pose_Para'].tolist(), 'pt2d': m['pt2d'].tolist(), 'dtype': str(m['pt2d'].dtype)}))
`,
        { file },
      );
      expect(got.keys).toEqual(['Pose_Para', 'pt2d']);
      expect(got.dtype).toBe('float64');
      expect(got.pose).toEqual([pose]);
      expect(got.pt2d).toEqual([pt2d.slice(0, 68), pt2d.slice(68)]);
      // and our reader reads it back
      const back = matVariable(readMat(file), 'pt2d');
      expect(back.dims).toEqual([2, 68]);
      expect(matAt(back, 1, 3)).toBe(pt2d[68 + 3]);
    },
  );

  it('a big-endian file (the MI mark; MATLAB on big-endian machines wrote them) reads the same numbers', () => {
    const want = Array.from({ length: 12 }, (_, i) => i / 7); // a 3×4 matrix, column-major
    const head = Buffer.alloc(128, 0x20);
    head.write('MATLAB 5.0 MAT-file, big-endian test', 0, 'latin1');
    head.writeUInt16BE(0x0100, 124);
    head.write('MI', 126, 'latin1');
    const body = Buffer.alloc(8 + 16 + 16 + 8 + 8 + 96);
    let o = 0;
    const tag = (type: number, n: number) => {
      body.writeUInt32BE(type, o);
      body.writeUInt32BE(n, o + 4);
      o += 8;
    };
    tag(14, body.length - 8);
    tag(6, 8);
    body.writeUInt32BE(6, o);
    o += 8;
    tag(5, 8);
    body.writeInt32BE(3, o);
    body.writeInt32BE(4, o + 4);
    o += 8;
    body.writeUInt32BE((1 << 16) | 1, o); // small element: one int8, the name 'a'
    body.write('a', o + 4, 'latin1');
    o += 8;
    tag(9, 96);
    want.forEach((v, i) => body.writeDoubleBE(v, o + 8 * i));
    const mat = parseMat(Buffer.concat([head, body]), 'be.mat');
    expect(Array.from(matVariable(mat, 'a').data)).toEqual(want);
  });
});

describe('MAT-file v5: what it refuses, with the file named', () => {
  it('not a MAT-file, MAT v7.3 (HDF5), a truncated file', () => {
    expect(() => parseMat(Buffer.from('hello'), 'x.mat')).toThrow(/^x\.mat: too short for a MAT-file/);
    const hdf5 = Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200)]);
    expect(() => parseMat(hdf5, 'h.mat')).toThrow(/h\.mat: an HDF5 file \(MAT v7\.3\)/);
    const v4 = Buffer.alloc(200);
    expect(() => parseMat(v4, 'v4.mat')).toThrow(/v4\.mat: not a level-5 MAT-file/);
    const ok = formatMat([{ name: 'pt2d', rows: 2, cols: 3, rowMajor: [1, 2, 3, 4, 5, 6] }]);
    expect(() => parseMat(ok.subarray(0, ok.length - 9), 't.mat')).toThrow(
      /t\.mat: the file ends inside a data element/,
    );
    const z = formatMat([{ name: 'pt2d', rows: 2, cols: 3, rowMajor: [1, 2, 3, 4, 5, 6] }], { compress: true });
    const broken = Buffer.from(z);
    broken.fill(0xff, 136, 146);
    expect(() => parseMat(broken, 'z.mat')).toThrow(/z\.mat: a compressed variable cannot be inflated/);
  });
});
