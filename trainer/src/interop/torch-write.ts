/**
 * Writing PyTorch files: a state dict of float32 tensors as `torch.save` writes it (zip archive,
 * stored entries aligned to 64 bytes, `archive/data.pkl` in pickle protocol 2, one storage a
 * tensor under `archive/data/<key>`, `archive/version`, `archive/byteorder`), using only the names
 * `torch.load(weights_only=True)` accepts: `collections.OrderedDict`,
 * `torch._utils._rebuild_tensor_v2`, `torch.FloatStorage`, `torch.LongStorage`. Values may be
 * numbers, strings, booleans, None, lists, dicts (string or integer keys) and float32 or int64 tensors.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import yazl from 'yazl';

export interface Float32Tensor {
  shape: number[];
  data: Float32Array;
}

/** An int64 tensor (BatchNorm's `num_batches_tracked`). */
export interface Int64Tensor {
  shape: number[];
  int64: number[];
}

export type TorchValue = Float32Tensor | Int64Tensor;

export type PickleValue =
  | number
  | string
  | boolean
  | null
  | Float32Tensor
  | Int64Tensor
  | PickleValue[]
  | { [k: string]: PickleValue }
  | Map<string | number, PickleValue>;

const isTensor = (v: unknown): v is Float32Tensor =>
  !!v && typeof v === 'object' && 'shape' in v && 'data' in v && (v as Float32Tensor).data instanceof Float32Array;
const isInt64 = (v: unknown): v is Int64Tensor => !!v && typeof v === 'object' && 'shape' in v && 'int64' in v;

class Writer {
  private parts: Buffer[] = [];
  readonly storages: (Float32Array | BigInt64Array)[] = [];
  byte(...b: number[]): void {
    this.parts.push(Buffer.from(b));
  }
  raw(b: Buffer): void {
    this.parts.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    const h = Buffer.alloc(5);
    h[0] = 0x58; // BINUNICODE
    h.writeUInt32LE(b.length, 1);
    this.raw(Buffer.concat([h, b]));
  }
  int(n: number): void {
    if (!Number.isInteger(n)) {
      const b = Buffer.alloc(9);
      b[0] = 0x47; // BINFLOAT
      b.writeDoubleBE(n, 1);
      this.raw(b);
    } else if (n >= 0 && n < 256)
      this.byte(0x4b, n); // BININT1
    else if (n >= -(2 ** 31) && n < 2 ** 31) {
      const b = Buffer.alloc(5);
      b[0] = 0x4a; // BININT
      b.writeInt32LE(n, 1);
      this.raw(b);
    } else {
      // LONG1, 8 bytes little-endian two's complement
      const b = Buffer.alloc(10);
      b[0] = 0x8a;
      b[1] = 8;
      b.writeBigInt64LE(BigInt(n), 2);
      this.raw(b);
    }
  }
  global(module: string, name: string): void {
    this.raw(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
  }
  tuple(items: (() => void)[]): void {
    this.byte(0x28); // MARK
    for (const f of items) f();
    this.byte(0x74); // TUPLE
  }
  value(v: PickleValue): void {
    if (v === null) return void this.byte(0x4e);
    if (v === true) return void this.byte(0x88);
    if (v === false) return void this.byte(0x89);
    if (typeof v === 'number') return void this.int(v);
    if (typeof v === 'string') return void this.str(v);
    if (isTensor(v)) return void this.tensor(v.shape, v.data, 'FloatStorage');
    if (isInt64(v)) return void this.tensor(v.shape, BigInt64Array.from(v.int64.map((x) => BigInt(x))), 'LongStorage');
    if (Array.isArray(v)) {
      this.byte(0x5d); // EMPTY_LIST
      if (v.length) {
        this.byte(0x28);
        for (const x of v) this.value(x);
        this.byte(0x65); // APPENDS
      }
      return;
    }
    const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
    this.global('collections', 'OrderedDict');
    this.byte(0x29, 0x52); // EMPTY_TUPLE, REDUCE
    if (entries.length) {
      this.byte(0x28);
      for (const [k, x] of entries) {
        if (typeof k === 'number') this.int(k);
        else this.str(k);
        this.value(x);
      }
      this.byte(0x75); // SETITEMS
    }
  }
  tensor(shape: number[], data: Float32Array | BigInt64Array, storage: 'FloatStorage' | 'LongStorage'): void {
    const t = { shape, data };
    const key = String(this.storages.length);
    this.storages.push(t.data);
    const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.tuple([
      () => {
        this.tuple([
          () => this.str('storage'),
          () => this.global('torch', storage),
          () => this.str(key),
          () => this.str('cpu'),
          () => this.int(t.data.length),
        ]);
        this.byte(0x51); // BINPERSID
      },
      () => this.int(0),
      () => this.tuple(t.shape.map((d) => () => this.int(d))),
      () => this.tuple(strides.map((d) => () => this.int(d))),
      () => this.byte(0x89), // requires_grad False
      () => {
        this.global('collections', 'OrderedDict');
        this.byte(0x29, 0x52);
      },
    ]);
    this.byte(0x52); // REDUCE
  }
  done(): Buffer {
    return Buffer.concat([Buffer.from([0x80, 0x02]), ...this.parts, Buffer.from([0x2e])]);
  }
}

/** The pickle bytes and storages of a value (exposed for tests). */
export function pickleStateDict(v: PickleValue): { pickle: Buffer; storages: (Float32Array | BigInt64Array)[] } {
  const w = new Writer();
  w.value(v);
  return { pickle: w.done(), storages: w.storages };
}

/** Writes `v` as `torch.save(v, file)` would (atomically: a temporary name, then a rename). */
export async function writeTorchFile(file: string, v: PickleValue, archive = 'archive'): Promise<void> {
  const { pickle, storages } = pickleStateDict(v);
  const zip = new yazl.ZipFile();
  const opts = { compress: false, mtime: new Date(0) };
  zip.addBuffer(pickle, `${archive}/data.pkl`, opts);
  zip.addBuffer(Buffer.from('little'), `${archive}/byteorder`, opts);
  storages.forEach((s, i) =>
    zip.addBuffer(Buffer.from(s.buffer, s.byteOffset, s.byteLength), `${archive}/data/${i}`, opts),
  );
  zip.addBuffer(Buffer.from('3\n'), `${archive}/version`, opts);
  zip.end();
  const tmp = `${file}.tmp-${process.pid}`;
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(tmp);
    out.on('error', reject);
    out.on('close', () => resolve());
    zip.outputStream.on('error', reject).pipe(out);
  }).catch(async (e: unknown) => {
    await rm(tmp, { force: true });
    throw e;
  });
  await rename(tmp, file);
}
