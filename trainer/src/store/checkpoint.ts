/**
 * Checkpoint files: the safetensors layout (8-byte little-endian header length, JSON header,
 * raw little-endian data) so that other tools can open them, with CAMD's state in
 * `__metadata__`. Written atomically: temp file in the same folder, fsync, rename, fsync of the
 * folder — a crash or a full disk leaves the previous checkpoint untouched.
 *
 *   full checkpoint    format "camd-checkpoint": online, frozen and momentum weights, AdamW
 *                      moments, and the state JSON (step, RNG, config, data position, normalisation)
 *   encoder export     format "camd-encoder": patch_embed, cls_token, pos_embed, blocks.* (what
 *                      fine-tuning loads)
 */
import type * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { z } from 'zod';

export { writeFileAtomic, type WriteFs } from '../util/atomic-file.js';

export const CHECKPOINT_FORMAT = 'camd-checkpoint';
export const ENCODER_FORMAT = 'camd-encoder';
export const FORMAT_VERSION = '1';
/** Name prefixes of a full checkpoint's AdamW moments: `optim.m/<parameter>`, `optim.v/<parameter>`. */
export const OPT_M = 'optim.m/';
export const OPT_V = 'optim.v/';

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface TensorFile {
  format: string;
  /** Parsed JSON of `__metadata__.state`. */
  state: unknown;
  tensors: Map<string, NamedArray>;
}

const HeaderEntry = z.object({
  dtype: z.literal('F32'),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

/**
 * Serialises tensors + state; returns the bytes and the sha256 of the whole file. The file is
 * written into one buffer of its final size (the tensors are copied once): a ViT-B checkpoint with
 * its AdamW moments is ~2 GB, and every extra staging copy would be on top of the training memory.
 */
export function encodeTensorFile(
  format: string,
  state: unknown,
  tensors: readonly NamedArray[],
): { bytes: Buffer; sha256: string } {
  const { parts, sha256 } = tensorFileParts(format, state, tensors);
  return { bytes: Buffer.concat(parts), sha256 };
}

/**
 * The file of encodeTensorFile as its parts, in order: the length and header, then a view of each
 * tensor's values (no copy; host order is little-endian on every platform we ship). A ViT-B
 * checkpoint is 2 GB: written from its parts it needs no second 2 GB buffer (allocating and
 * filling one took 10 s of a 27 s checkpoint on a 2-core VM).
 */
export function tensorFileParts(
  format: string,
  state: unknown,
  tensors: readonly NamedArray[],
): { parts: Uint8Array[]; bytes: number; sha256: string } {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new Error(`checkpoint: ${t.name} has ${t.data.length} values for shape [${t.shape}]`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  const views = tensors.map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  const dataHash = createHash('sha256');
  for (const v of views) dataHash.update(v);
  header['__metadata__'] = {
    format,
    version: FORMAT_VERSION,
    state: JSON.stringify(state),
    data_sha256: dataHash.digest('hex'),
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8; // keep the data 8-byte aligned
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const head = Buffer.allocUnsafe(8 + json.length);
  head.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(head, 8);
  const parts = [head, ...views];
  const fileHash = createHash('sha256');
  for (const part of parts) fileHash.update(part);
  return { parts, bytes: head.length + offset, sha256: fileHash.digest('hex') };
}

/**
 * A tensor file that cannot be used. `damaged`: its bytes are broken (truncated, altered, not
 * written to the end) — as opposed to a sound file of another kind, version or run.
 */
export class CheckpointError extends Error {
  constructor(
    message: string,
    readonly damaged: boolean,
  ) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** Parses and verifies a tensor file. Throws one readable line for anything that is not ours or is damaged. */
export function decodeTensorFile(bytes: Buffer, what: string, expectFormat?: string | readonly string[]): TensorFile {
  const bad = (why: string, damaged = true) =>
    new CheckpointError(`${what} is not a usable CAMD checkpoint: ${why}`, damaged);
  if (bytes.length < 8) throw bad('file too short');
  const hlen = Number(bytes.readBigUInt64LE(0));
  if (!Number.isSafeInteger(hlen) || hlen <= 0 || 8 + hlen > bytes.length)
    throw bad('no safetensors header (truncated or another format)');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + hlen).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw bad('header is not valid JSON (truncated or corrupt)');
  }
  const meta = z
    .object({ format: z.string(), version: z.string(), state: z.string(), data_sha256: z.string() })
    .safeParse(header['__metadata__']);
  if (!meta.success) throw bad('no CAMD metadata (a safetensors file from another tool?)', false);
  const formats =
    expectFormat === undefined
      ? [CHECKPOINT_FORMAT, ENCODER_FORMAT]
      : typeof expectFormat === 'string'
        ? [expectFormat]
        : expectFormat;
  if (!formats.includes(meta.data.format))
    throw bad(`it is a "${meta.data.format}" file, expected ${formats.map((f) => `"${f}"`).join(' or ')}`, false);
  if (meta.data.version !== FORMAT_VERSION)
    throw bad(`format version ${meta.data.version} is not supported (this trainer reads ${FORMAT_VERSION})`, false);
  const data = bytes.subarray(8 + hlen);
  if (createHash('sha256').update(data).digest('hex') !== meta.data.data_sha256)
    throw bad('data checksum mismatch (the file is corrupt or truncated)');
  const tensors = new Map<string, NamedArray>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = HeaderEntry.safeParse(entry);
    if (!e.success) throw bad(`tensor ${name} has an unsupported entry`);
    const [b, en] = e.data.data_offsets;
    const n = e.data.shape.reduce((x, y) => x * y, 1);
    if (en > data.length || en - b !== 4 * n) throw bad(`tensor ${name} lies outside the data`);
    const copy = new Float32Array(n);
    Buffer.from(copy.buffer).set(data.subarray(b, en));
    tensors.set(name, { name, shape: e.data.shape, data: copy });
  }
  let state: unknown;
  try {
    state = JSON.parse(meta.data.state);
  } catch {
    throw bad('state is not valid JSON');
  }
  return { format: meta.data.format, state, tensors };
}

export function readTensorFile(path: string, expectFormat?: string | readonly string[]): TensorFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      code === 'ENOENT'
        ? `checkpoint ${path} does not exist`
        : code === 'EISDIR'
          ? `${path} is a folder, not a checkpoint file`
          : `cannot read checkpoint ${path}: ${(e as Error).message}`,
      false,
    );
  }
  return decodeTensorFile(bytes, path, expectFormat);
}

/** Host copies of named tensors, read asynchronously (the only read-back GPU backends allow in Node). */
export async function readAll(named: [string, tf.Tensor][]): Promise<NamedArray[]> {
  return Promise.all(
    named.map(async ([name, v]) => ({ name, shape: v.shape, data: (await v.data()) as Float32Array })),
  );
}

/**
 * The CAMD format and state a tensor file's header says (its header only, the tensors neither read
 * nor verified), or null for a file that is not one (too short, no CAMD metadata, unreadable).
 */
export function tensorFileHeader(path: string): { format: string; state: unknown } | null {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(8);
    if (readSync(fd, head, 0, 8, 0) < 8) return null;
    const hlen = Number(head.readBigUInt64LE(0));
    if (!Number.isSafeInteger(hlen) || hlen <= 0 || hlen > 64 << 20) return null;
    const json = Buffer.alloc(hlen);
    if (readSync(fd, json, 0, hlen, 8) < hlen) return null;
    const meta = (JSON.parse(json.toString('utf8')) as { __metadata__?: { format?: unknown; state?: unknown } })
      .__metadata__;
    if (typeof meta?.format !== 'string') return null;
    let state: unknown = null;
    try {
      state = typeof meta.state === 'string' ? JSON.parse(meta.state) : null;
    } catch {
      state = null;
    }
    return { format: meta.format, state };
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * The CAMD format a tensor file says it is (its header only: `camd-classifier`, `camd-landmarks`,
 * …), or null for a file that is not one (too short, no CAMD metadata, unreadable).
 */
export function tensorFileFormat(path: string): string | null {
  return tensorFileHeader(path)?.format ?? null;
}
