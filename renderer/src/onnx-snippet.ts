/**
 * How to run an exported ONNX file, as a person copies it: Node with onnxruntime-node (and sharp to
 * read the image), Python with onnxruntime (and Pillow, numpy), each filled in with the file's
 * name, its input size, its mean and std and its first output. The Node form is the one
 * docs/finetuning.md shows, run there on such a file.
 */
import type { OnnxExport } from '../../electron/common/contract.js';

/** The file's name as a path relative to where the snippet runs: its last component. */
const base = (path: string) => path.split(/[\\/]/).pop() ?? path;

const list = (v: number[]) => `[${v.join(', ')}]`;

export function onnxSnippets(file: string, o: OnnxExport): { node: string; python: string } {
  const S = o.preprocessing.size;
  const first = o.outputs[0]?.name ?? 'output';
  const name = base(file);
  const node = [
    "import * as ort from 'onnxruntime-node';",
    "import sharp from 'sharp';",
    '',
    `const session = await ort.InferenceSession.create('${name}');`,
    `const S = ${S}, mean = ${list(o.preprocessing.mean)}, std = ${list(o.preprocessing.std)};`,
    '// the face as the model expects it (see "Input" above), RGB, S×S',
    'const data = await sharp(process.argv[2]).resize(S, S).removeAlpha().raw().toBuffer();',
    'const x = new Float32Array(3 * S * S);',
    'for (let p = 0; p < S * S; p++)',
    '  for (let c = 0; c < 3; c++) x[c * S * S + p] = (data[p * 3 + c] / 255 - mean[c]) / std[c];',
    `const { ${first} } = await session.run({ pixel_values: new ort.Tensor('float32', x, [1, 3, S, S]) });`,
    `console.log(${first}.dims, Array.from(${first}.data).slice(0, 8));`,
  ].join('\n');
  const python = [
    'import sys',
    'import numpy as np',
    'import onnxruntime as ort',
    'from PIL import Image',
    '',
    `session = ort.InferenceSession('${name}')`,
    `S, mean, std = ${S}, np.array(${list(o.preprocessing.mean)}), np.array(${list(o.preprocessing.std)})`,
    "img = np.asarray(Image.open(sys.argv[1]).convert('RGB').resize((S, S)), dtype=np.float32) / 255",
    'x = ((img - mean) / std).astype(np.float32).transpose(2, 0, 1)[None]  # (1, 3, S, S)',
    `(${first},) = session.run(['${first}'], {'pixel_values': x})`,
    `print(${first}.shape, ${first}.ravel()[:8])`,
  ].join('\n');
  return { node, python };
}

/** The input in words: its name and shape, channel order, normalisation and crop. */
export function onnxInputText(o: OnnxExport): string {
  const p = o.preprocessing;
  return `pixel_values (batch, 3, ${p.size}, ${p.size}), float32, RGB; each value (pixel/255 − mean)/std with mean ${list(p.mean)} and std ${list(p.std)}; ${p.crop}`;
}
