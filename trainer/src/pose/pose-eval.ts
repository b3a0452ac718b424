/**
 * `camd eval --checkpoint pose.safetensors`: a head-pose model on a head-pose dataset's test split —
 * the one its run tested on (pose-run.ts `poseSplit`: the dataset's own test set, AFLW2000 or BIWI
 * as `--test-data`, or the seeded share held out; BIWI's faces found by the face detector) — scored
 * as the run scores each epoch (pose-train.ts `evaluatePose`, pose-metrics.ts `summarisePose`, the
 * adapter's figures with the frontal baseline of the same faces).
 */
import type { EvalInput, GeometryEvaluation, GeometryEvaluator } from '../tasks/task-eval.js';
import { testSplitWords } from '../tasks/task-setup.js';
import type { PoseFormat } from './pose-formats.js';
import { summarisePose } from './pose-metrics.js';
import { loadPoseModel } from './pose-predict.js';
import { frontalBaseline, poseSplit } from './pose-run.js';
import { poseFigures } from './pose-task.js';
import { poseTestFormatOf } from './pose-test-folder.js';
import { cutOutPose, evaluatePose } from './pose-train.js';

async function poseEvaluation(
  spec: EvalInput,
  detecting: (done: number, total: number) => void,
): Promise<GeometryEvaluation> {
  const model = loadPoseModel(spec.checkpoint);
  try {
    const { train, test, beyond, missed } = await poseSplit(
      {
        format: spec.format as PoseFormat,
        data: spec.data,
        testData:
          spec.testData !== undefined ? { format: poseTestFormatOf(spec.testData), data: spec.testData } : undefined,
        seed: spec.seed,
      },
      (e) => {
        if (e.type === 'detect') detecting(e.done, e.total);
      },
    );
    const S = model.clf.spec.model.imgSize;
    const frontal = frontalBaseline(test);
    return {
      metric: 'mae',
      test: test.length,
      split: testSplitWords(spec.testData, test.length, train.length + test.length, spec.seed),
      config: {
        test_format: spec.testData !== undefined ? poseTestFormatOf(spec.testData) : spec.format,
        left_out: { beyond99: beyond, no_face: missed },
        frontal_baseline: frontal,
        img_size: S,
      },
      evaluate: async (progress, signal) => {
        const set = await cutOutPose(test, S, (n) => progress(n, test.length));
        if (signal.aborted) return null;
        const { errors } = await evaluatePose(model, set, S);
        return poseFigures(frontal)(summarisePose(errors));
      },
      dispose: () => model.dispose(),
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

export const poseEvaluator: GeometryEvaluator = {
  // one representation whatever the dataset: nothing to disagree on
  schemeProblem: () => null,
  evaluation: (spec, detecting) => poseEvaluation(spec, detecting),
};
