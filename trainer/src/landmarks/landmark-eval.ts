/**
 * `camd eval --checkpoint landmarks.safetensors`: a face-alignment model on a landmark dataset's test
 * split — the one its run tested on (landmark-run.ts `landmarkSplit`: the dataset's own test set, or
 * the seeded share held out) — scored as the run scores each epoch (landmark-train.ts
 * `evaluateLandmarks` with the scheme's NME, landmark-metrics.ts `summarise`, the adapter's figures).
 */
import { FORMAT_SCHEME, type LandmarkFormat } from '../geometry/landmark-formats.js';
import { summarise } from '../geometry/landmark-metrics.js';
import { type LandmarkScheme, SCHEMES } from '../geometry/landmark-schemes.js';
import type { EvalInput, GeometryEvaluation, GeometryEvaluator } from '../tasks/task-eval.js';
import { testSplitWords } from '../tasks/task-setup.js';
import { loadLandmarkModel } from './landmark-file.js';
import { landmarkErrorOf, landmarkSplit } from './landmark-run.js';
import { landmarkFigures } from './landmark-task.js';
import { cutOutLandmarks, evaluateLandmarks } from './landmark-train.js';

async function landmarkEvaluation(spec: EvalInput): Promise<GeometryEvaluation> {
  const { model, scheme } = loadLandmarkModel(spec.checkpoint);
  try {
    // the format's scheme is the model's (checked from the file's header: schemeProblem, below)
    const format = spec.format as LandmarkFormat;
    const { train, test } = await landmarkSplit({ format, data: spec.data, testData: spec.testData, seed: spec.seed });
    const S = model.clf.spec.model.imgSize;
    return {
      metric: 'nme',
      test: test.length,
      split: testSplitWords(spec.testData, test.length, train.length + test.length, spec.seed),
      config: { scheme, points: model.points, img_size: S },
      evaluate: async (progress, signal) => {
        const set = await cutOutLandmarks(test, S, (n) => progress(n, test.length));
        if (signal.aborted) return null;
        const { errors } = await evaluateLandmarks(model, set, S, SCHEMES[scheme].flip, landmarkErrorOf(scheme));
        return landmarkFigures(scheme)(summarise(errors));
      },
      dispose: () => model.dispose(),
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

export const landmarkEvaluator: GeometryEvaluator = {
  schemeProblem: (spec, state) => {
    const file = (state as { scheme?: unknown } | null)?.scheme as LandmarkScheme | undefined;
    const wanted = FORMAT_SCHEME[spec.format as LandmarkFormat];
    if (!file || !SCHEMES[file] || !wanted || file === wanted) return null;
    return `predicts ${SCHEMES[file].points} points (${file}); --format ${spec.format} has ${SCHEMES[wanted].points} (${wanted})`;
  },
  evaluation: (spec) => landmarkEvaluation(spec),
};
