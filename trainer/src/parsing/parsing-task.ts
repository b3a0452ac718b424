/**
 * Face parsing as a geometry task of the store (tasks/task-job.ts): the spec's defaults
 * (PARSING_DEFAULTS), parsing-run.ts's events as the job's, and an epoch's figures — the mean F1
 * over the classes other than background (FaRL's figure; higher is better), the pixel accuracy, and
 * each class's F1 by name in the evaluation's detail.
 */
import { PARSING_DEFAULTS } from '../protocol/defaults.js';
import type { ParsingSpec } from '../protocol/geometry-specs.js';
import { type TaskAdapter, type TaskSettings, withDefaults } from '../tasks/task-job.js';
import { CLASS_MAPS } from './parsing-classes.js';
import { FORMAT_PARSING_SCHEME } from './parsing-formats.js';
import type { ParsingSummary } from './parsing-metrics.js';
import { runParsing } from './parsing-run.js';

/** An evaluation's figures (TaskAdapter.figures): the mean F1, the pixel accuracy, each class's F1 by name and the split. */
export function parsingFigures(names: readonly string[], split: string): TaskAdapter<ParsingSummary>['figures'] {
  return (m) => ({
    value: m.meanF1,
    n: m.count,
    values: { pixel_accuracy: m.pixelAccuracy },
    detail: { f1: Object.fromEntries(names.map((n, i) => [n, m.f1[i] ?? null])), split },
  });
}

export function parsingTask(spec: ParsingSpec): { settings: TaskSettings; adapter: TaskAdapter<ParsingSummary> } {
  const D = PARSING_DEFAULTS;
  const settings = withDefaults(spec, D);
  const { names } = CLASS_MAPS[FORMAT_PARSING_SCHEME[spec.format]];
  let split = '';
  const adapter: TaskAdapter<ParsingSummary> = {
    task: 'parsing',
    metric: 'mean_f1',
    figures: (m) => parsingFigures(names, split)(m),
    run: (emit, signal) =>
      runParsing(
        {
          ...settings,
          width: D.width,
          dice: D.dice,
          preset: spec.preset,
          imgSize: spec.imgSize,
          backend: spec.backend,
        },
        (e) => {
          if (e.type === 'prepare') emit(e);
          else if (e.type === 'eval') emit({ type: 'eval', epoch: e.epoch, summary: e.summary });
          else if (e.type === 'step') emit({ type: 'step', epoch: e.epoch, step: e.step, loss: e.loss, lr: e.lr });
          else if (e.type === 'done') emit({ type: 'done', file: e.file });
          else if (e.type === 'start') {
            split = e.split;
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
              outputs: e.classes,
              config: { scheme: e.scheme, classes: names, split: e.split },
            });
          }
        },
        signal,
      ),
  };
  return { settings, adapter };
}
