/**
 * An exported ONNX file run by ONNX Runtime for Node (onnxruntime-node, loaded when first used):
 * `camd predict --onnx FILE` checks a file about to ship against what `camd predict` gives on the
 * checkpoint. What the file is and how to feed it comes from its metadata_props (onnx/export.ts),
 * read without decoding the weights.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import protobuf from 'protobufjs/minimal.js';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { reasonOf } from '../util/system-errors.js';
import type { OnnxModelKind, OnnxPreprocessing } from './export.js';

const { onnx } = onnxProto;

/** ModelProto's field number of metadata_props (onnx.proto). */
const METADATA_FIELD = 14;

const Preprocessing = z.object({
  size: z.number().int().positive(),
  mean: z.array(z.number()).length(3),
  std: z.array(z.number().positive()).length(3),
  layout: z.literal('NCHW'),
  channel_order: z.literal('RGB'),
});

export interface OnnxFileInfo {
  kind: OnnxModelKind;
  preprocessing: Pick<OnnxPreprocessing, 'size' | 'mean' | 'std'>;
  names: string[] | null;
  task: string | null;
  /** The head's description (a geometry model's scheme, points, …), or null. */
  head: Record<string, unknown> | null;
  metadata: Record<string, string>;
}

/** The file's metadata_props, read field by field (the graph and its weights are skipped, not decoded). */
export function onnxMetadata(bytes: Uint8Array): Record<string, string> {
  const r = protobuf.Reader.create(bytes);
  const out: Record<string, string> = {};
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === METADATA_FIELD && (tag & 7) === 2) {
      const e = onnx.StringStringEntryProto.decode(r, r.uint32());
      out[e.key] = e.value;
    } else r.skipType(tag & 7);
  }
  return out;
}

const json = (file: string, key: string, v: string | undefined): unknown => {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    throw new UserError(`${file}: its ${key} metadata is not JSON`);
  }
};

/** What an exported file is and expects; refuses, in words, a file without CAMD Studio's metadata. */
export function readOnnxInfo(file: string, bytes: Uint8Array): OnnxFileInfo {
  let m: Record<string, string>;
  try {
    m = onnxMetadata(bytes);
  } catch (e) {
    throw new UserError(`${file} is not an ONNX file: ${(e as Error).message}`);
  }
  const kind = m['camd.kind'];
  if (!kind || !['encoder', 'classifier', 'landmarks', 'pose', 'parsing'].includes(kind))
    throw new UserError(
      `${file} has no CAMD Studio metadata (camd.kind): only files written by camd export --format onnx say how to feed them`,
    );
  const pre = Preprocessing.safeParse(json(file, 'camd.preprocessing', m['camd.preprocessing']));
  if (!pre.success) throw new UserError(`${file}: its camd.preprocessing metadata is invalid`);
  const names = z
    .array(z.string())
    .nullable()
    .safeParse(json(file, 'camd.names', m['camd.names']) ?? null);
  const head = z
    .record(z.string(), z.unknown())
    .nullable()
    .safeParse(json(file, 'camd.head', m['camd.head']) ?? null);
  if (!names.success || !head.success) throw new UserError(`${file}: its camd.names or camd.head metadata is invalid`);
  return {
    kind: kind as OnnxModelKind,
    preprocessing: pre.data,
    names: names.data,
    task: m['camd.task'] ?? null,
    head: head.data,
    metadata: m,
  };
}

/** An exported file in ONNX Runtime: its outputs for a batch of NHWC images normalised as the file says. */
export interface OnnxRunner {
  info: OnnxFileInfo;
  run(nhwc: Float32Array, n: number): Promise<Record<string, Float32Array>>;
  dispose(): Promise<void>;
}

export async function openOnnx(file: string): Promise<OnnxRunner> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${reasonOf(e)}`);
  }
  const info = readOnnxInfo(file, bytes);
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const S = info.preprocessing.size;
  return {
    info,
    async run(nhwc, n) {
      if (nhwc.length !== n * S * S * 3) throw new Error(`onnx: ${nhwc.length} values for ${n} images of ${S}×${S}`);
      const nchw = new Float32Array(nhwc.length);
      for (let i = 0; i < n; i++)
        for (let p = 0; p < S * S; p++)
          for (let c = 0; c < 3; c++) nchw[(i * 3 + c) * S * S + p] = nhwc[(i * S * S + p) * 3 + c]!;
      const out = await session.run({ pixel_values: new ort.Tensor('float32', nchw, [n, 3, S, S]) });
      return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
    },
    dispose: () => session.release(),
  };
}
