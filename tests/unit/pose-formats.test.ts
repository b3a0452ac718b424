// The head-pose datasets' files as their producers write them: 300W-LP and AFLW2000 .mat files from
// scipy.io.savemat (the 3DDFA fields and shapes, compressed and not) beside real face images, and
// the raw BIWI layout (NN/frame_XXXXX_rgb.png + frame_XXXXX_pose.txt); what is skipped, left out
// (beyond ±99°) and refused, with the file named.
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clmFaces, tempDir } from '../support/folders.js';
import { runScipy, scipyMissing } from '../support/scipy.js';
import { readPoseDataset } from '../../trainer/src/pose/pose-formats.js';
import { rotationFromDegrees } from '../../trainer/src/pose/rotation.js';

const faces = clmFaces().filter((f) => f.endsWith('.jpg'));

/** .mat files written by scipy.io.savemat: {path: [pitch, yaw, roll (radians), points (2×n as [xs, ys]), compress]}. */
function savemats(files: Record<string, { pose: number[]; xs: number[]; ys: number[]; compress: boolean }>): void {
  runScipy(
    `
for path, v in data.items():
    sio.savemat(path, {
      'Pose_Para': np.array([v['pose'] + [120.5, 200.25, 31.0, 0.0011]]),
      'pt2d': np.array([v['xs'], v['ys']]),
      'Shape_Para': np.zeros((199, 1)), 'Exp_Para': np.zeros((29, 1)), 'roi': np.array([[1, 2, 300, 310]]),
    }, do_compression=v['compress'])
print('null')
`,
    files,
  );
}

const pts = (n: number, x0: number, y0: number) => ({
  xs: Array.from({ length: n }, (_, i) => x0 + ((i * 7) % 50)),
  ys: Array.from({ length: n }, (_, i) => y0 + ((i * 11) % 60)),
});

describe.skipIf(scipyMissing !== null)('300W-LP and AFLW2000 (.mat beside each image, written by scipy)', () => {
  it('300w-lp: nested folders, compressed or not; the angles, the rotation and the box of pt2d; an image without .mat skipped', async () => {
    const dir = tempDir('300wlp');
    mkdirSync(join(dir, 'AFW'));
    mkdirSync(join(dir, 'HELEN_Flip'));
    mkdirSync(join(dir, 'landmarks', 'AFW'), { recursive: true });
    copyFileSync(faces[0]!, join(dir, 'AFW', 'AFW_1_0.jpg'));
    copyFileSync(faces[1]!, join(dir, 'HELEN_Flip', 'HELEN_2_3.jpg'));
    copyFileSync(faces[2]!, join(dir, 'AFW', 'AFW_9_0.jpg')); // no .mat
    savemats({
      [join(dir, 'AFW', 'AFW_1_0.mat')]: { pose: [-0.2, 0.6, 0.1], ...pts(68, 40, 50), compress: false },
      [join(dir, 'HELEN_Flip', 'HELEN_2_3.mat')]: { pose: [0.05, -1.2, -0.3], ...pts(68, 10, 20), compress: true },
    });
    writeFileSync(join(dir, 'landmarks', 'AFW', 'AFW_1_0_pts.mat'), 'not read: no image beside it');
    const ds = await readPoseDataset('300w-lp', dir);
    expect(ds.samples.map((s) => s.image)).toEqual([
      join(dir, 'AFW', 'AFW_1_0.jpg'),
      join(dir, 'HELEN_Flip', 'HELEN_2_3.jpg'),
    ]);
    const [a, b] = ds.samples;
    expect(a!.angles.pitch).toBeCloseTo((-0.2 * 180) / Math.PI, 10);
    expect(a!.angles.yaw).toBeCloseTo((0.6 * 180) / Math.PI, 10);
    expect(a!.angles.roll).toBeCloseTo((0.1 * 180) / Math.PI, 10);
    expect(Array.from(a!.R)).toEqual(Array.from(rotationFromDegrees(a!.angles)));
    expect(a!.box).toEqual([40, 50, 89, 109]);
    expect(b!.angles.yaw).toBeCloseTo((-1.2 * 180) / Math.PI, 10);
    expect(b!.box).toEqual([10, 20, 59, 79]);
    expect(ds.skipped).toEqual([{ path: join(dir, 'AFW', 'AFW_9_0.jpg'), reason: 'no AFW_9_0.mat beside it' }]);
  });

  it('aflw2000: pt2d 2×21; a face beyond ±99° left out, as the literature’s AFLW2000 tables do', async () => {
    const dir = tempDir('aflw2000');
    copyFileSync(faces[0]!, join(dir, 'image00002.jpg'));
    copyFileSync(faces[1]!, join(dir, 'image00004.jpg'));
    savemats({
      [join(dir, 'image00002.mat')]: { pose: [0.1, 0.3, 0], ...pts(21, 5, 5), compress: true },
      [join(dir, 'image00004.mat')]: { pose: [0.1, 1.8, 0], ...pts(21, 5, 5), compress: true }, // yaw 103°
    });
    const ds = await readPoseDataset('aflw2000', dir);
    expect(ds.samples.map((s) => s.image)).toEqual([join(dir, 'image00002.jpg')]);
    expect(ds.beyond).toBe(1);
    // the same folder read as 300W-LP keeps both (the ±99° rule is the test sets')
    expect((await readPoseDataset('300w-lp', dir)).samples).toHaveLength(2);
  });

  it('a malformed annotation is an error naming its file', async () => {
    const dir = tempDir('badmat');
    copyFileSync(faces[0]!, join(dir, 'x.jpg'));
    runScipy(
      `sio.savemat(data, {'Pose_Para': np.array([[0.1, 0.2]]), 'pt2d': np.zeros((2, 68))})\nprint('null')`,
      join(dir, 'x.mat'),
    );
    await expect(readPoseDataset('300w-lp', dir)).rejects.toThrow(`${join(dir, 'x.mat')}: Pose_Para is 1×2`);
    runScipy(
      `sio.savemat(data, {'Pose_Para': np.zeros((1, 7)), 'pt2d': np.zeros((3, 68))})\nprint('null')`,
      join(dir, 'x.mat'),
    );
    await expect(readPoseDataset('300w-lp', dir)).rejects.toThrow('pt2d is 3×68: 2×N');
    writeFileSync(join(dir, 'x.mat'), 'MATLAB? no');
    await expect(readPoseDataset('300w-lp', dir)).rejects.toThrow(`${join(dir, 'x.mat')}: too short for a MAT-file`);
  });
});

describe('BIWI (raw hpdb layout)', () => {
  /** A BIWI pose file whose reading is `angles`: the 300W-LP rotation's transpose, as the loaders transpose it back. */
  const poseFile = (yaw: number, pitch: number, roll: number) => {
    const R = rotationFromDegrees({ yaw: -yaw, pitch, roll: -roll }); // the loaders' signs: yaw and roll negated
    const rows = [0, 1, 2].map((r) => [0, 1, 2].map((c) => R[c * 3 + r]!.toFixed(6)).join(' '));
    return `${rows.join(' \n')} \n\n27.1 -10.5 890.2 \n`;
  };

  it('frame_XXXXX_rgb.png with frame_XXXXX_pose.txt: read as Hopenet reads it; no box (the run finds the face); beyond ±99° left out', async () => {
    const dir = tempDir('biwi');
    mkdirSync(join(dir, '01'));
    mkdirSync(join(dir, '02'));
    copyFileSync(faces[0]!, join(dir, '01', 'frame_00003_rgb.png'));
    writeFileSync(join(dir, '01', 'frame_00003_pose.txt'), poseFile(25, -10, 5));
    copyFileSync(faces[1]!, join(dir, '01', 'frame_00004_rgb.png')); // no pose file
    copyFileSync(faces[2]!, join(dir, '02', 'frame_00100_rgb.png'));
    writeFileSync(join(dir, '02', 'frame_00100_pose.txt'), poseFile(-20, 15, -8));
    copyFileSync(faces[3]!, join(dir, '02', 'frame_00101_rgb.png'));
    writeFileSync(join(dir, '02', 'frame_00101_pose.txt'), poseFile(10, 0, 150)); // roll 150°
    copyFileSync(faces[4]!, join(dir, '02', 'frame_00100_depth.png')); // not a frame image: ignored
    const ds = await readPoseDataset('biwi', dir);
    expect(ds.samples.map((s) => s.image)).toEqual([
      join(dir, '01', 'frame_00003_rgb.png'),
      join(dir, '02', 'frame_00100_rgb.png'),
    ]);
    const a = ds.samples[0]!.angles;
    expect([a.yaw, a.pitch, a.roll].map((v) => Math.round(v * 1e4) / 1e4)).toEqual([25, -10, 5]);
    expect(ds.samples[0]!.box).toBeNull();
    expect(ds.beyond).toBe(1);
    expect(ds.skipped.map((s) => s.reason)).toEqual(['no frame_00004_pose.txt beside it']);
  });

  it('a pose file that is not 4 rows of 3 numbers, or not a rotation, is an error naming it', async () => {
    const dir = tempDir('biwibad');
    copyFileSync(faces[0]!, join(dir, 'frame_00001_rgb.png'));
    const f = join(dir, 'frame_00001_pose.txt');
    writeFileSync(f, '1 0 0\n0 1 0\n');
    await expect(readPoseDataset('biwi', dir)).rejects.toThrow(`${f}: a BIWI pose file holds 4 rows of 3 numbers`);
    writeFileSync(f, '1 0 0\n0 2 0\n0 0 1\n\n1 2 3\n');
    await expect(readPoseDataset('biwi', dir)).rejects.toThrow('not a rotation matrix');
    writeFileSync(f, '1 0 0\n0 1 x\n0 0 1\n\n1 2 3\n');
    await expect(readPoseDataset('biwi', dir)).rejects.toThrow(`${f}:2: rotation: 'x' is not a finite number`);
  });
});
