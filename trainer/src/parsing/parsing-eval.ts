/**
 * `camd eval --checkpoint parsing.safetensors`: a face-parsing model on a parsing dataset's test
 * split — the one its run tested on (parsing-run.ts `splitParsing`: LaPa's test/ or CelebAMask-HQ's
 * official test list, else the seeded share held out) — scored as the run scores each epoch
 * (parsing-train.ts `evaluateParsing`: per-class F1 from the whole split's pixel counts, mean F1
 * without background, pixel accuracy; the adapter's figures with each class's F1 by name).
 */
import type { EvalInput, GeometryEvaluation, GeometryEvaluator } from '../tasks/task-eval.js';
import { TEST_FRACTION } from '../tasks/task-setup.js';
import { CamdError } from '../util/errors.js';
import { CLASS_MAPS, type ParsingScheme } from './parsing-classes.js';
import { loadParsingModel } from './parsing-file.js';
import { FORMAT_PARSING_SCHEME, type ParsingFormat, readParsingDataset } from './parsing-formats.js';
import { splitParsing } from './parsing-run.js';
import { parsingFigures } from './parsing-task.js';
import { cutOutParsing, evaluateParsing } from './parsing-train.js';

async function parsingEvaluation(spec: EvalInput): Promise<GeometryEvaluation> {
  const { model, scheme, names } = loadParsingModel(spec.checkpoint);
  try {
    const format = spec.format as ParsingFormat;
    // the format's scheme is the model's (checked from the file's header: schemeProblem, below)
    const ds = await readParsingDataset(format, spec.data);
    const { train, test, own } = splitParsing(ds.samples, spec.seed);
    if (test.length < 1) throw new CamdError('input', `${spec.data}: no test sample`, 'data');
    const split = own
      ? `${ds.split ?? 'the dataset’s own'}: ${test.length} images`
      : `a seeded ${test.length} of ${train.length + test.length} held out for testing (${Math.round(TEST_FRACTION * 100)} %, seed ${spec.seed})`;
    const S = model.side;
    return {
      metric: 'mean_f1',
      test: test.length,
      split,
      config: { scheme, classes: names, img_size: S },
      evaluate: async (progress, signal) => {
        const set = await cutOutParsing(test, scheme, S, (n) => progress(n, test.length));
        if (signal.aborted) return null;
        const summary = await evaluateParsing(model, set, S, CLASS_MAPS[scheme].flip);
        return parsingFigures(names, split)(summary);
      },
      dispose: () => model.dispose(),
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

export const parsingEvaluator: GeometryEvaluator = {
  schemeProblem: (spec, state) => {
    const file = (state as { scheme?: unknown } | null)?.scheme as ParsingScheme | undefined;
    const wanted = FORMAT_PARSING_SCHEME[spec.format as ParsingFormat];
    if (!file || !CLASS_MAPS[file] || !wanted || file === wanted) return null;
    return `predicts ${CLASS_MAPS[file].names.length} classes (${file}); --format ${spec.format} has ${CLASS_MAPS[wanted].names.length} (${wanted})`;
  },
  evaluation: (spec) => parsingEvaluation(spec),
};
