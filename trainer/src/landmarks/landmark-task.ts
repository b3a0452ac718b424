/**
 * Face alignment as a geometry task of the store (tasks/task-job.ts): the spec's defaults
 * (LANDMARK_DEFAULTS), landmark-run.ts's events as the job's, and an epoch's figures — the NME
 * (lower is better), the failure rate and AUC at 10 %, and the CED with its normaliser in the
 * evaluation's detail.
 */
import { FORMAT_SCHEME } from '../geometry/landmark-formats.js';
import type { NmeSummary } from '../geometry/landmark-metrics.js';
import { type LandmarkScheme, SCHEMES } from '../geometry/landmark-schemes.js';
import { LANDMARK_DEFAULTS } from '../protocol/defaults.js';
import type { LandmarkSpec } from '../protocol/geometry-specs.js';
import { type TaskAdapter, type TaskSettings, withDefaults } from '../tasks/task-job.js';
import { runLandmarks } from './landmark-run.js';

/** An evaluation's figures (TaskAdapter.figures): the NME, failure rate and AUC at 10 %, the CED and its normaliser. */
export function landmarkFigures(scheme: LandmarkScheme): TaskAdapter<NmeSummary>['figures'] {
  return (m) => ({
    value: m.nme,
    n: m.count,
    values: { failure_rate10: m.failureRate10, auc10: m.auc10 },
    detail: { ced: m.ced, normaliser: SCHEMES[scheme].normaliser },
  });
}

export function landmarkTask(spec: LandmarkSpec): { settings: TaskSettings; adapter: TaskAdapter<NmeSummary> } {
  const settings = withDefaults(spec, LANDMARK_DEFAULTS);
  const scheme = FORMAT_SCHEME[spec.format];
  const adapter: TaskAdapter<NmeSummary> = {
    task: 'landmarks',
    metric: 'nme',
    figures: landmarkFigures(scheme),
    run: (emit, signal) =>
      runLandmarks(
        { ...settings, preset: spec.preset, imgSize: spec.imgSize, backend: spec.backend },
        (e) => {
          if (e.type === 'prepare' || e.type === 'eval') emit(e);
          else if (e.type === 'step') emit({ type: 'step', epoch: e.epoch, step: e.step, loss: e.loss, lr: e.lr });
          else if (e.type === 'done') emit({ type: 'done', file: e.file });
          else if (e.type === 'start')
            emit({
              type: 'start',
              train: e.train,
              test: e.test,
              skipped: e.skipped,
              backend: e.backend,
              backend_detail: e.backend_detail,
              pos_embed: e.pos_embed,
              model: e.model,
              batch: e.batch,
              steps_per_epoch: e.steps_per_epoch,
              outputs: e.points,
              config: { scheme: e.scheme, points: e.points },
            });
        },
        signal,
      ),
  };
  return { settings, adapter };
}
