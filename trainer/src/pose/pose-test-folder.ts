/**
 * A head-pose run's own test folder (`--test-data`, the app's "Test folder"): BIWI's layout (numbered
 * folders of frame_XXXXX_rgb.png with frame_XXXXX_pose.txt) is read as BIWI, any other folder as
 * AFLW2000 (images with a 300W-LP .mat beside each), as the papers test models trained on 300W-LP.
 * Only Node's fs: the app's main process checks a folder with it before a run is queued.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CamdError } from '../util/errors.js';
import type { PoseFormat } from './pose-formats.js';

/** BIWI's layout (numbered folders of frame_XXXXX_pose.txt) or else AFLW2000's. */
export function poseTestFormatOf(dir: string): PoseFormat {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return 'aflw2000';
  for (const sub of readdirSync(dir)) {
    const p = join(dir, sub);
    if (/^\d+$/.test(sub) && statSync(p).isDirectory() && readdirSync(p).some((f) => f.endsWith('_pose.txt')))
      return 'biwi';
  }
  return 'aflw2000';
}

/**
 * The format of a test folder, checked before a run is queued: a folder that exists and holds
 * AFLW2000's .mat files or BIWI's frames; anything else refused in words under `testData`.
 */
export function poseTestDataOf(dir: string): PoseFormat {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new CamdError('input', `the test folder ${dir} does not exist`, 'testData');
  }
  if (!st.isDirectory()) throw new CamdError('input', `${dir} is a file: give the test set's folder`, 'testData');
  const format = poseTestFormatOf(dir);
  if (format === 'biwi') return format;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new CamdError('input', `cannot read the test folder ${dir}: ${(e as Error).message}`, 'testData');
  }
  if (!names.some((n) => n.toLowerCase().endsWith('.mat')))
    throw new CamdError(
      'input',
      `${dir} holds no .mat files: give AFLW2000's folder (each image with its .mat) or BIWI's (numbered folders of frame_XXXXX_rgb.png with frame_XXXXX_pose.txt)`,
      'testData',
    );
  return format;
}
