/**
 * A head-pose model on photos (`camd predict --checkpoint pose.safetensors`, and the app's image
 * view, which draws the head's axes): each face the bundled face model finds is viewed as the
 * training views its faces (pose-views.ts, the box of its 68 points standing for pt2d, as for BIWI),
 * and the model's rotation read as yaw, pitch and roll in degrees (300W-LP's convention, rotation.ts).
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ModelConfigSchema } from '../model/config.js';
import { readTensorFile } from '../store/checkpoint.js';
import type { FaceModel } from '../tasks/predict-images.js';
import { UserError } from '../util/errors.js';
import { PoseModel } from './pose-model.js';
import { POSE_FILE_FORMAT } from './pose-run.js';
import { DEFAULT_POSE_AUG, canonicalPose, poseViewOf } from './pose-views.js';
import { degreesFromRotation } from './rotation.js';

const PoseState = z.object({ task: z.literal('pose'), model: ModelConfigSchema }).passthrough();

/** Loads a head-pose model written by `camd finetune --task pose`; refuses any other file in words. */
export function loadPoseModel(file: string): PoseModel {
  if (!existsSync(file)) throw new UserError(`${file} does not exist`);
  let f;
  try {
    f = readTensorFile(file, POSE_FILE_FORMAT);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const s = PoseState.safeParse(f.state);
  if (!s.success) throw new UserError(`${file}: the head-pose model's metadata is invalid`);
  const model = new PoseModel(s.data.model, 0, 0);
  try {
    model.clf.loadEncoder(f.tensors, file);
    model.clf.loadParams(
      f.tensors,
      ['fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias', 'head.pool_weight'],
      file,
    );
  } catch (e) {
    model.dispose();
    throw new UserError((e as Error).message);
  }
  return model;
}

const IDENTITY = Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
const round2 = (v: number) => Math.round(v * 100) / 100;

/** The rotation (3×3, row-major) of a batch of one view (1, S, S, 3), normalised. */
export type RotationOf = (x: Float32Array) => Promise<Float32Array>;

/** The head-pose model of `file` for predictImages. */
export function poseFaceModel(file: string): FaceModel<{ pose: { yaw: number; pitch: number; roll: number } }> {
  const model = loadPoseModel(file);
  const S = model.clf.spec.model.imgSize;
  const rotation: RotationOf = async (v) => {
    const x = tf.tensor4d(v, [1, S, S, 3]);
    const r = tf.tidy(() => model.predict(x));
    const R = (await r.data()) as Float32Array;
    tf.dispose([x, r]);
    return R;
  };
  return poseFaces(rotation, S, () => model.dispose());
}

/** A head-pose model (ours, or an exported file in ONNX Runtime) for predictImages. */
export function poseFaces(
  rotation: RotationOf,
  S: number,
  dispose: () => void,
): FaceModel<{ pose: { yaw: number; pitch: number; roll: number } }> {
  return {
    task: 'pose',
    about: { convention: '300W-LP: R = Rz(roll) Ry(yaw) Rx(pitch), degrees' },
    onFace: async (img, face) => {
      const xs = face.landmarks68.map((p) => p[0]);
      const ys = face.landmarks68.map((p) => p[1]);
      const box = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] as const;
      const v = poseViewOf(canonicalPose(img, box, IDENTITY, S), S, DEFAULT_POSE_AUG, null);
      const a = degreesFromRotation(await rotation(v.x));
      return { pose: { yaw: round2(a.yaw), pitch: round2(a.pitch), roll: round2(a.roll) } };
    },
    dispose,
  };
}
