/**
 * Head pose as a geometry task of the store (tasks/task-job.ts): the spec's defaults
 * (POSE_DEFAULTS), pose-run.ts's events as the job's, and an epoch's figures — the mean of the yaw,
 * pitch and roll absolute errors in degrees (lower is better; TokenHPE's MAE), each angle's error
 * and the geodesic error as its values, and what predicting every face frontal scores on the same
 * test faces (the number to beat) in the evaluation's detail.
 *
 * A test set of its own (`--test-data`): a BIWI folder (frames with _pose.txt files) is read as
 * BIWI, any other as AFLW2000 (300W-LP's layout, faces beyond ±99° left out), as the papers test
 * models trained on 300W-LP (pose-test-folder.ts).
 */
import { POSE_DEFAULTS } from '../protocol/defaults.js';
import type { PoseSpec } from '../protocol/geometry-specs.js';
import { type TaskAdapter, type TaskSettings, withDefaults } from '../tasks/task-job.js';
import type { PoseSummary } from './pose-metrics.js';
import { runPose } from './pose-run.js';
import { poseTestFormatOf } from './pose-test-folder.js';

/** An evaluation's figures (TaskAdapter.figures): the MAE, each angle's and the geodesic error, and the frontal baseline. */
export function poseFigures(frontal: PoseSummary | null): TaskAdapter<PoseSummary>['figures'] {
  return (m) => ({
    value: m.mae,
    n: m.count,
    values: { yaw: m.yaw, pitch: m.pitch, roll: m.roll, geodesic: m.geodesic },
    detail: { units: 'degrees', frontal },
  });
}

export function poseTask(spec: PoseSpec): { settings: TaskSettings; adapter: TaskAdapter<PoseSummary> } {
  const settings = withDefaults(spec, POSE_DEFAULTS);
  let frontal: PoseSummary | null = null;
  const adapter: TaskAdapter<PoseSummary> = {
    task: 'pose',
    metric: 'mae',
    figures: (m) => poseFigures(frontal)(m),
    run: (emit, signal) =>
      runPose(
        {
          ...settings,
          testData:
            spec.testData !== undefined ? { format: poseTestFormatOf(spec.testData), data: spec.testData } : undefined,
          preset: spec.preset,
          imgSize: spec.imgSize,
          backend: spec.backend,
        },
        (e) => {
          if (e.type === 'prepare' || e.type === 'eval') emit(e);
          else if (e.type === 'detect') emit({ type: 'prepare', done: e.done, total: e.total });
          else if (e.type === 'step') emit({ type: 'step', epoch: e.epoch, step: e.step, loss: e.loss, lr: e.lr });
          else if (e.type === 'done') emit({ type: 'done', file: e.file });
          else if (e.type === 'start') {
            frontal = e.frontal;
            emit({
              type: 'start',
              train: e.train,
              test: e.test,
              skipped: e.skipped + e.beyond99 + e.noFace,
              backend: e.backend,
              backend_detail: e.backend_detail,
              pos_embed: e.pos_embed,
              model: e.model,
              batch: e.batch,
              steps_per_epoch: e.steps_per_epoch,
              outputs: 6,
              config: {
                representation: '6-D rotation (Gram–Schmidt), geodesic loss',
                left_out: { skipped: e.skipped, beyond99: e.beyond99, no_face: e.noFace },
                frontal_baseline: e.frontal,
              },
            });
          }
        },
        signal,
      ),
  };
  return { settings, adapter };
}
