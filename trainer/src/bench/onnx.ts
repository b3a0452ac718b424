/**
 * `npm run bench -- --onnx CHECKPOINT`: an exported model's time per face in ONNX Runtime for Node
 * against our own forward pass (the wasm rung, with the native kernels where built), on the same
 * normalised views, at batch 1 and 32: median of 10 runs after 2 warm-ups each. The checkpoint is
 * a classifier, an encoder, or a face-alignment or head-pose model; it is exported to a temporary
 * ONNX file first (onnx/export.ts), whose size is reported. Writes JSON (default bench/onnx.json).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { selectBackend } from '../backends/ladder.js';
import { readExportable } from '../finetune/export.js';
import { Classifier } from '../finetune/classifier.js';
import { readGeometryExportable } from '../interop/geometry-export.js';
import { exportOnnx } from '../onnx/export.js';
import { openOnnx } from '../onnx/run.js';
import { Rng } from '../util/rng.js';
import { median } from '../util/stats.js';
import { cpuModel } from './machine-info.js';

const RUNS = 10;
const WARMUP = 2;

async function timed(f: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await f();
  const t: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const a = performance.now();
    await f();
    t.push(performance.now() - a);
  }
  return median(t);
}

export async function benchOnnx(checkpoint: string, outFile: string): Promise<void> {
  const sel = await selectBackend('wasm');
  const e = readGeometryExportable(checkpoint) ?? readExportable(checkpoint);
  const dir = mkdtempSync(join(tmpdir(), 'camd-bench-onnx-'));
  try {
    const file = join(dir, 'model.onnx');
    const t0 = performance.now();
    const info = exportOnnx(e, file, 'bench');
    const exportS = (performance.now() - t0) / 1000;
    const ort = await openOnnx(file);
    // ours: the encoder and, where the file has one, fc_norm and the head (the geometry heads' read-outs are small)
    const clf = new Classifier({ model: e.model, outputs: e.outputs ?? 1, dropPath: 0 }, 0);
    clf.loadEncoder(e.tensors, checkpoint);
    if (e.outputs !== null)
      clf.loadParams(e.tensors, ['fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias'], checkpoint);
    const S = e.model.imgSize;
    const rng = new Rng(0);
    const rows: { batch: number; ours_ms_per_face: number; onnx_ms_per_face: number }[] = [];
    for (const n of [1, 32]) {
      const x = Float32Array.from({ length: n * S * S * 3 }, () => rng.normal(0, 1));
      const ours = await timed(async () => {
        const y = tf.tidy(() => {
          const t = tf.tensor4d(x, [n, S, S, 3]);
          return e.outputs === null ? clf.patchFeatures(t) : clf.logits(t);
        });
        await y.data();
        y.dispose();
      });
      const theirs = await timed(() => ort.run(x, n));
      rows.push({ batch: n, ours_ms_per_face: ours / n, onnx_ms_per_face: theirs / n });
      process.stderr.write(
        `[bench] onnx batch ${n}: ours ${(ours / n).toFixed(2)} ms/face, ONNX Runtime ${(theirs / n).toFixed(2)} ms/face\n`,
      );
    }
    clf.dispose();
    await ort.dispose();
    const m = e.model;
    const out = {
      kind: 'camd-onnx',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu_model: cpuModel(), node: process.versions.node },
      checkpoint,
      model: `${info.kind} ${m.embedDim}×${m.depth} at ${S} px`,
      onnx_bytes: info.bytes,
      export_s: exportS,
      ours: `tfjs ${sel.backend}`,
      onnxruntime: (await import('onnxruntime-node')).env.versions.node,
      rows,
    };
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify(out, null, 2)}\n`);
    process.stdout.write(
      `${out.model}: ONNX file ${(info.bytes / 2 ** 20).toFixed(1)} MiB, exported in ${exportS.toFixed(1)} s (${cpus().length} cores of ${out.machine.cpu_model})\n` +
        rows
          .map(
            (r) =>
              `  batch ${String(r.batch).padStart(2)}: ONNX Runtime ${r.onnx_ms_per_face.toFixed(2)} ms/face, ours (${out.ours}) ${r.ours_ms_per_face.toFixed(2)} ms/face, ratio ${(r.ours_ms_per_face / r.onnx_ms_per_face).toFixed(2)}\n`,
          )
          .join('') +
        `wrote ${outFile}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
