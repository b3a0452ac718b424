/** `camd predict --onnx FILE` on a dataset: an exported classifier in ONNX Runtime, as finetune/predict.ts's runPredict takes one. */
import type { OpenedClassifier, PredictSpec } from '../finetune/predict.js';
import { UserError } from '../util/errors.js';
import { openOnnx } from './run.js';

export async function openOnnxClassifier(spec: PredictSpec): Promise<OpenedClassifier> {
  const r = await openOnnx(spec.onnx!);
  const { kind, names, task, preprocessing } = r.info;
  if (kind !== 'classifier' || !names || !task) {
    await r.dispose();
    throw new UserError(
      `${spec.onnx} is an exported ${kind}; camd predict --onnx on a dataset takes an exported classifier (a face-alignment, head-pose or parsing file takes --data, a folder or an image)`,
    );
  }
  return {
    model: async (x, n) => (await r.run(x, n))['logits']!,
    task: task.startsWith('attributes') ? 'far' : 'fer',
    names,
    imgSize: preprocessing.size,
    dispose: () => r.dispose(),
  };
}
