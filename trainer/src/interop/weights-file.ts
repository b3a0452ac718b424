/**
 * A weights file of either kind PyTorch people hand around: a `torch.save` zip archive
 * (torch-file.ts, its pickle read by the restricted reader) or a safetensors file (a JSON header of
 * names, dtypes, shapes and byte ranges, then the raw data — nothing in it can run), e.g. a timm
 * checkpoint from the Hugging Face hub. Both come back as the same tree of TorchTensors; a
 * safetensors file is a flat state dict (its `__metadata__` strings are kept apart).
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import {
  readTorchFile,
  storageValues,
  TorchFileError,
  type StorageRef,
  type TorchFile,
  type TorchTensor,
} from './torch-file.js';

const DTYPES: Record<string, { dtype: string; bytes: number }> = {
  F32: { dtype: 'float32', bytes: 4 },
  F64: { dtype: 'float64', bytes: 8 },
  F16: { dtype: 'float16', bytes: 2 },
  BF16: { dtype: 'bfloat16', bytes: 2 },
  I64: { dtype: 'int64', bytes: 8 },
  I32: { dtype: 'int32', bytes: 4 },
  I16: { dtype: 'int16', bytes: 2 },
  I8: { dtype: 'int8', bytes: 1 },
  U8: { dtype: 'uint8', bytes: 1 },
  BOOL: { dtype: 'bool', bytes: 1 },
};

export type WeightsKind = 'zip' | 'safetensors' | 'unknown';

/** What a file is, from its first bytes: "PK" (zip), or an 8-byte header length followed by '{'. */
export function weightsKind(file: string): WeightsKind {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TorchFileError(
      code === 'ENOENT'
        ? `${file} does not exist`
        : code === 'EISDIR'
          ? `${file} is a folder, not a weights file`
          : `cannot read ${file}: ${(e as Error).message}`,
    );
  }
  try {
    const head = Buffer.alloc(9);
    const n = readSync(fd, head, 0, 9, 0);
    if (n >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
    if (n === 9 && head[8] === 0x7b && head.readBigUInt64LE(0) < 100_000_000n) return 'safetensors';
    return 'unknown';
  } finally {
    closeSync(fd);
  }
}

/** A safetensors file as `{ tensors: Map(name → TorchTensor), metadata }`; one line when it is damaged. */
export function readSafetensors(file: string): { tensors: Map<string, TorchTensor>; metadata: Record<string, string> } {
  const bytes = readFileSync(file);
  const bad = (why: string) => new TorchFileError(`${file} is not a readable safetensors file: ${why}`);
  const hlen = Number(bytes.readBigUInt64LE(0));
  if (8 + hlen > bytes.length) throw bad('the header runs past the end (truncated)');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + hlen).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw bad('the header is not JSON');
  }
  const data = bytes.subarray(8 + hlen);
  const tensors = new Map<string, TorchTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (e && typeof e === 'object')
        metadata = Object.fromEntries(Object.entries(e).filter(([, v]) => typeof v === 'string')) as Record<
          string,
          string
        >;
      continue;
    }
    const entry = e as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dt = DTYPES[String(entry.dtype)];
    if (!dt) throw bad(`${name} has the dtype ${String(entry.dtype)}, which is not read`);
    const shape = entry.shape;
    const off = entry.data_offsets;
    if (
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && d >= 0) ||
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((d) => Number.isInteger(d) && d >= 0)
    )
      throw bad(`${name} has a malformed entry`);
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const [b, en] = off as [number, number];
    if (en > data.length || en - b !== numel * dt.bytes)
      throw bad(`${name} lies outside the data or has the wrong size`);
    const ref: StorageRef = { dtype: dt.dtype, bytes: dt.bytes, key: name, numel };
    tensors.set(name, {
      __tensor: true,
      dtype: dt.dtype,
      shape: shape as number[],
      values: () => Float32Array.from(storageValues(ref, data.subarray(b, en))),
    });
  }
  return { tensors, metadata };
}

/** Either kind, as a TorchFile: a safetensors file's root is its state dict (a Map). */
export async function readWeightsFile(file: string): Promise<TorchFile & { kind: WeightsKind }> {
  const kind = weightsKind(file);
  if (kind === 'safetensors') {
    const { tensors } = readSafetensors(file);
    return { root: tensors, tensors: tensors.size, kind };
  }
  return { ...(await readTorchFile(file)), kind };
}
