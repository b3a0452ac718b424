// `camd eval` of a face-geometry model refuses, in words and before any work, what does not fit the
// model file (read from its header: the task and the point or class scheme): another kind of file, a
// --task that is not the file's, a --format of another task or scheme, a test set parsing does not
// take; the CLI flags a geometry model's evaluation does not read. And the app's head-pose test
// folder check (pose-test-folder.ts): a folder that exists and holds AFLW2000's .mat files or BIWI's frames.
import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/folders.js';
import { encodeTensorFile } from '../../trainer/src/store/checkpoint.js';
import { checkEvalSpec } from '../../trainer/src/tasks/task-eval.js';
import { landmarkEvaluator } from '../../trainer/src/landmarks/landmark-eval.js';
import { parsingEvaluator } from '../../trainer/src/parsing/parsing-eval.js';
import { toGeometryEvalSpec } from '../../trainer/src/cli/geometry-flags.js';
import { poseTestDataOf } from '../../trainer/src/pose/pose-test-folder.js';
import type { GeometryEvalSpec } from '../../trainer/src/protocol/geometry-specs.js';

/** A model file's header alone (no tensors): all checkEvalSpec reads. */
function header(name: string, format: string, state: unknown): string {
  const file = join(tempDir('geo-eval'), name);
  writeFileSync(file, encodeTensorFile(format, state, []).bytes);
  return file;
}

describe('camd eval of a face-geometry model: what does not fit the model file is refused in words', () => {
  const lmk = header('landmarks.safetensors', 'camd-landmarks', { task: 'landmarks', scheme: '300w-68', points: 68 });
  const par = header('parsing.safetensors', 'camd-parsing', { task: 'parsing', scheme: 'lapa-11' });
  const spec = (s: Partial<GeometryEvalSpec>): GeometryEvalSpec =>
    ({ checkpoint: lmk, task: 'landmarks', format: '300w', data: '/d', ...s }) as GeometryEvalSpec;

  it('the task, format and scheme checked against the header', () => {
    expect(() => checkEvalSpec(spec({}), landmarkEvaluator)).not.toThrow();
    expect(() =>
      checkEvalSpec(spec({ checkpoint: par, task: 'parsing', format: 'lapa' }), parsingEvaluator),
    ).not.toThrow();
    const clf = header('best.safetensors', 'camd-classifier', {});
    expect(() => checkEvalSpec(spec({ checkpoint: clf }), landmarkEvaluator)).toThrow(
      `${clf} is not a face-geometry model (landmarks.safetensors, pose.safetensors or parsing.safetensors of camd finetune)`,
    );
    expect(() => checkEvalSpec(spec({ task: 'pose', format: '300w-lp' }), landmarkEvaluator)).toThrow(
      `${lmk} is a face-alignment (landmarks) model, not --task pose: leave --task out or give --task landmarks`,
    );
    expect(() => checkEvalSpec(spec({ format: '300w-lp' }), landmarkEvaluator)).toThrow(
      '--task landmarks reads --format 300w, wflw, aflw19 (given: 300w-lp)',
    );
    expect(() => checkEvalSpec(spec({ format: 'wflw' }), landmarkEvaluator)).toThrow(
      `${lmk} predicts 68 points (300w-68); --format wflw has 98 (wflw-98)`,
    );
    expect(() =>
      checkEvalSpec(spec({ checkpoint: par, task: 'parsing', format: 'celebamask-hq' }), parsingEvaluator),
    ).toThrow(`${par} predicts 11 classes (lapa-11); --format celebamask-hq has 19 (celebamask-19)`);
    expect(() =>
      checkEvalSpec(spec({ checkpoint: par, task: 'parsing', format: 'lapa', testData: '/t' }), parsingEvaluator),
    ).toThrow('--task parsing does not use --test-data: LaPa and CelebAMask-HQ carry their own test split');
  });

  it('the CLI reads the task from the file; a --task of another, or a classification flag, is refused', () => {
    const o = { checkpoint: lmk, format: '300w', data: 'faces', seed: '2' };
    expect(toGeometryEvalSpec('landmarks', o)).toMatchObject({ task: 'landmarks', format: '300w', seed: 2 });
    expect(() => toGeometryEvalSpec('landmarks', { ...o, task: 'pose' })).toThrow(
      `${lmk} is a landmarks model, not --task pose: leave --task out or give --task landmarks`,
    );
    expect(() => toGeometryEvalSpec('landmarks', { ...o, format: 'celeba' })).toThrow(
      'a landmarks model is evaluated on --format 300w, wflw, aflw19 (given: celeba)',
    );
    expect(() => toGeometryEvalSpec('landmarks', { ...o, schema: 'mine' })).toThrow(
      "a landmarks model's evaluation does not use --schema: leave it out",
    );
  });
});

describe('a head-pose test folder (the app checks it before a run is queued)', () => {
  it('AFLW2000 (.mat files) or BIWI (numbered folders of frames); anything else refused on testData', () => {
    const root = tempDir('pose-test-folder');
    const aflw = join(root, 'aflw');
    mkdirSync(aflw);
    writeFileSync(join(aflw, 'image00002.mat'), '');
    expect(poseTestDataOf(aflw)).toBe('aflw2000');
    const biwi = join(root, 'biwi');
    mkdirSync(join(biwi, '07'), { recursive: true });
    writeFileSync(join(biwi, '07', 'frame_00003_pose.txt'), '');
    expect(poseTestDataOf(biwi)).toBe('biwi');
    const fail = (dir: string) => {
      try {
        poseTestDataOf(dir);
      } catch (e) {
        return { message: (e as Error).message, field: (e as { field?: string }).field };
      }
      throw new Error('expected a refusal');
    };
    expect(fail(join(root, 'none'))).toEqual({
      message: `the test folder ${join(root, 'none')} does not exist`,
      field: 'testData',
    });
    expect(fail(join(aflw, 'image00002.mat'))).toMatchObject({ field: 'testData' });
    mkdirSync(join(root, 'photos'));
    writeFileSync(join(root, 'photos', 'a.jpg'), '');
    expect(fail(join(root, 'photos')).message).toBe(
      `${join(root, 'photos')} holds no .mat files: give AFLW2000's folder (each image with its .mat) or BIWI's (numbered folders of frame_XXXXX_rgb.png with frame_XXXXX_pose.txt)`,
    );
  });
});
