import { describe, expect, it } from 'vitest';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  decodeTensorFile,
  encodeTensorFile,
  readTensorFile,
  writeFileAtomic,
  type WriteFs,
} from '../../trainer/src/store/checkpoint.js';
import { tempDir } from '../support/folders.js';

const tensors = [
  { name: 'blocks.0.attn.qkv.weight', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-7, -1e7]) },
  { name: 'cls_token', shape: [1, 1, 3], data: Float32Array.from([0.25, 0.5, 0.75]) },
];

describe('checkpoint files', () => {
  it('round-trip tensors and state exactly, in the safetensors layout', () => {
    const { bytes, sha256 } = encodeTensorFile('camd-checkpoint', { step: 7, rng: { seed: 1 } }, tensors);
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    const hlen = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + hlen).toString()) as Record<
      string,
      { dtype: string; data_offsets: number[] }
    >;
    expect(header['cls_token']).toMatchObject({ dtype: 'F32', shape: [1, 1, 3], data_offsets: [24, 36] });
    expect((8 + hlen) % 8).toBe(0);
    const back = decodeTensorFile(bytes, 'x');
    expect(back.state).toEqual({ step: 7, rng: { seed: 1 } });
    expect([...back.tensors.get('blocks.0.attn.qkv.weight')!.data]).toEqual([...tensors[0]!.data]);
  });

  it('refuses truncated, corrupt, foreign and wrong-kind files with a clear message', () => {
    const { bytes } = encodeTensorFile('camd-checkpoint', {}, tensors);
    expect(() => decodeTensorFile(bytes.subarray(0, bytes.length - 4), 'f')).toThrow(
      /checksum mismatch|outside the data/,
    );
    expect(() => decodeTensorFile(bytes.subarray(0, 20), 'f')).toThrow(/truncated or another format/);
    expect(() => decodeTensorFile(Buffer.from('hello world, not a checkpoint'), 'f')).toThrow(
      /not a usable CAMD checkpoint/,
    );
    expect(() => decodeTensorFile(bytes, 'f', 'camd-encoder')).toThrow(
      /it is a "camd-checkpoint" file, expected "camd-encoder"/,
    );
    // a safetensors file from another tool
    const other = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(other.length));
    expect(() => decodeTensorFile(Buffer.concat([len, other, Buffer.alloc(4)]), 'f')).toThrow(/no CAMD metadata/);
    expect(() => readTensorFile('/no/such/file.ckpt')).toThrow(/does not exist/);
  });

  it('an atomic write that hits a full disk leaves the previous file and no temp file', () => {
    const dir = tempDir('atomic');
    const file = join(dir, 'step.ckpt');
    writeFileSync(file, 'previous');
    let written = 0;
    const fullDisk: WriteFs = {
      openSync,
      writeSync: (fd, b, o, l) => {
        if (written > 100) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        written += 64;
        return writeSync(fd, b, o, Math.min(l ?? b.length, 64));
      },
      fsyncSync,
      closeSync,
      renameSync,
      rmSync,
    };
    expect(() => writeFileAtomic(file, Buffer.alloc(10_000, 1), fullDisk)).toThrow(
      /^disk full while writing .*step\.ckpt \(the previous file is intact\)$/,
    );
    expect(readFileSync(file, 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['step.ckpt']);
    writeFileAtomic(file, Buffer.from('next'));
    expect(readFileSync(file, 'utf8')).toBe('next');
    expect(existsSync(join(dir, `.step.ckpt.tmp-${process.pid}`))).toBe(false);
    // a new file: no previous one to speak of
    const fresh = join(dir, 'new.ckpt');
    written = 0;
    expect(() => writeFileAtomic(fresh, Buffer.alloc(10_000, 1), fullDisk)).toThrow(
      /^disk full while writing .*new\.ckpt \(no partial file was left\)$/,
    );
    expect(existsSync(fresh)).toBe(false);
  });
});
