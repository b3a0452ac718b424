/**
 * Reading PyTorch checkpoints (`torch.save`, the zip format of PyTorch ≥ 1.6) without Python and
 * without running anything: the zip is read with yauzl, `data.pkl` with the restricted unpickler
 * (pickle.ts) whose only allowed globals are the ones `torch.save` writes for tensors, storages and
 * plain containers (plus `argparse.Namespace`, in which the released scripts save their `args`,
 * and numpy scalars); tensors are rebuilt from their storages (offset, size, stride) as contiguous
 * arrays. The legacy format (`_use_new_zipfile_serialization=False`) is refused with what to do.
 */
import { readSync, closeSync, openSync } from 'node:fs';
import yauzl from 'yauzl';
import { PickleRefused, PyObject, unpickle, type AllowedGlobal } from './pickle.js';

export class TorchFileError extends Error {}

const STORAGES: Record<string, { dtype: string; bytes: number }> = {
  FloatStorage: { dtype: 'float32', bytes: 4 },
  DoubleStorage: { dtype: 'float64', bytes: 8 },
  HalfStorage: { dtype: 'float16', bytes: 2 },
  BFloat16Storage: { dtype: 'bfloat16', bytes: 2 },
  LongStorage: { dtype: 'int64', bytes: 8 },
  IntStorage: { dtype: 'int32', bytes: 4 },
  ShortStorage: { dtype: 'int16', bytes: 2 },
  CharStorage: { dtype: 'int8', bytes: 1 },
  ByteStorage: { dtype: 'uint8', bytes: 1 },
  BoolStorage: { dtype: 'bool', bytes: 1 },
};

/** A tensor of the file: its dtype, shape, and its values as float32 in row-major order. */
export interface TorchTensor {
  readonly __tensor: true;
  dtype: string;
  shape: number[];
  values(): Float32Array;
}

export interface StorageRef {
  dtype: string;
  bytes: number;
  key: string;
  numel: number;
}

/** The most a `data.pkl` may declare: the structure of a checkpoint, not its numbers (a ViT-H's is under 1 MB). */
const MAX_PICKLE_BYTES = 64 << 20;

/**
 * The entries of the archive that `want` names, inflated — and only those: an entry nobody reads
 * costs nothing, however large. Each must declare at most `cap(name)` bytes (checked before
 * inflating; yauzl then holds the entry to its declared size), so a small file cannot make the
 * reader allocate gigabytes.
 */
function readZip(
  file: string,
  want: (name: string) => boolean,
  cap: (name: string) => number,
): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      file,
      { lazyEntries: true, autoClose: true, strictFileNames: false, validateEntrySizes: true },
      (err, zip) => {
        if (err || !zip)
          return reject(
            new TorchFileError(`${file} is not a readable zip archive (${err?.message ?? 'unknown error'})`),
          );
        const out = new Map<string, Buffer>();
        zip.on('error', (e: Error) =>
          reject(new TorchFileError(`${file}: the zip archive is damaged or truncated (${e.message})`)),
        );
        zip.on('end', () => resolve(out));
        zip.on('entry', (entry: yauzl.Entry) => {
          if (/\/$/.test(entry.fileName) || !want(entry.fileName)) return zip.readEntry();
          const most = cap(entry.fileName);
          if (entry.uncompressedSize > most) {
            zip.close();
            return reject(
              new TorchFileError(
                `${file}: ${entry.fileName} declares ${entry.uncompressedSize.toLocaleString('en-US')} bytes, more than the ${most.toLocaleString('en-US')} it can hold: damaged, or built to exhaust memory`,
              ),
            );
          }
          zip.openReadStream(entry, (e, stream) => {
            if (e || !stream)
              return reject(
                new TorchFileError(`${file}: cannot read ${entry.fileName} (${e?.message ?? 'unknown error'})`),
              );
            const parts: Buffer[] = [];
            stream.on('data', (c: Buffer) => parts.push(c));
            stream.on('error', (er: Error) =>
              reject(new TorchFileError(`${file}: ${entry.fileName} is damaged (${er.message})`)),
            );
            stream.on('end', () => {
              out.set(entry.fileName, Buffer.concat(parts));
              zip.readEntry();
            });
          });
        });
        zip.readEntry();
      },
    );
  });
}

function isLegacy(file: string): boolean {
  // the legacy format is a pickle stream (starts with PROTO 0x80); a zip starts with "PK"
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    readSync(fd, head, 0, 2, 0);
    return head[0] === 0x80;
  } finally {
    closeSync(fd);
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** A storage's raw little-endian bytes as numbers (float32 stays float32; other types widen to float64). */
export function storageValues(ref: StorageRef, raw: Buffer): Float64Array | Float32Array {
  const n = Math.floor(raw.length / ref.bytes);
  if (n < ref.numel)
    throw new TorchFileError(`storage ${ref.key} holds ${n} values, the file says ${ref.numel}: damaged`);
  const v = ref.dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  const widen = Buffer.alloc(4); // bfloat16 → float32: the 16 bits become the high half
  for (let i = 0; i < n; i++) {
    const o = i * ref.bytes;
    switch (ref.dtype) {
      case 'float32':
        v[i] = raw.readFloatLE(o);
        break;
      case 'float64':
        v[i] = raw.readDoubleLE(o);
        break;
      case 'float16':
        v[i] = halfToFloat(raw.readUInt16LE(o));
        break;
      case 'bfloat16':
        widen.writeUInt16LE(raw.readUInt16LE(o), 2);
        v[i] = widen.readFloatLE(0);
        break;
      case 'int64':
        v[i] = Number(raw.readBigInt64LE(o));
        break;
      case 'int32':
        v[i] = raw.readInt32LE(o);
        break;
      case 'int16':
        v[i] = raw.readInt16LE(o);
        break;
      case 'int8':
        v[i] = raw.readInt8(o);
        break;
      default:
        v[i] = raw[o]!;
        break;
    }
  }
  return v;
}

export interface TorchFile {
  /** The unpickled object: Maps for dicts, arrays for lists and tuples, TorchTensor, PyObject (argparse.Namespace), numbers, strings. */
  root: unknown;
  tensors: number;
}

/**
 * Reads a `torch.save` file. Throws TorchFileError (or PickleRefused) with a message a person can
 * act on. `pickleOnly` reads the structure without the tensors' storages (their `values()` then
 * fail): for the `args` and `epoch` of a large checkpoint.
 */
export async function readTorchFile(file: string, o: { pickleOnly?: boolean } = {}): Promise<TorchFile> {
  if (isLegacy(file))
    throw new TorchFileError(
      `${file} is in PyTorch's legacy format (saved with _use_new_zipfile_serialization=False or by PyTorch < 1.6), which is not read: load and save it again with torch.save(torch.load(path), path) in PyTorch ≥ 1.6`,
    );
  // first the structure (data.pkl, byteorder); then only the storages it refers to, each no larger than its tensors need
  const entries = await readZip(
    file,
    (n) => /\/(data\.pkl|byteorder)$/.test(n),
    (n) => (n.endsWith('byteorder') ? 16 : MAX_PICKLE_BYTES),
  );
  const pkl = [...entries.keys()].find((k) => /^[^/]+\/data\.pkl$/.test(k));
  if (!pkl) throw new TorchFileError(`${file} is a zip archive but not a PyTorch checkpoint (no */data.pkl)`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const byteorder = entries.get(`${prefix}byteorder`)?.toString('latin1');
  if (byteorder && byteorder !== 'little')
    throw new TorchFileError(`${file} was saved on a ${byteorder}-endian machine: not read`);
  const cache = new Map<string, Float64Array | Float32Array>();
  const referenced = new Map<string, number>(); // storage entry → the bytes it holds (numel × element size)
  let tensors = 0;
  const storage = (ref: StorageRef) => {
    let v = cache.get(ref.key);
    if (!v) {
      const raw = entries.get(`${prefix}data/${ref.key}`);
      if (!raw) throw new TorchFileError(`${file}: storage ${ref.key} is missing from the archive: damaged`);
      v = storageValues(ref, raw);
      cache.set(ref.key, v);
    }
    return v;
  };
  const num = (x: unknown, what: string): number => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0)
      throw new PickleRefused(`a tensor's ${what} is not a non-negative integer: damaged`);
    return x;
  };
  const rebuildTensor: AllowedGlobal = {
    call: (args) => {
      const [ref, offset, size, stride] = args as [StorageRef, unknown, unknown, unknown];
      if (!ref || typeof ref !== 'object' || !('key' in ref))
        throw new PickleRefused('a tensor without a storage: damaged');
      if (!Array.isArray(size) || !Array.isArray(stride) || size.length !== stride.length)
        throw new PickleRefused('a tensor with a malformed size or stride: damaged');
      const shape = size.map((d) => num(d, 'size'));
      const strides = stride.map((d) => num(d, 'stride'));
      const off = num(offset, 'offset');
      const count = shape.reduce((a, b) => a * b, 1);
      const last = count === 0 ? off : off + shape.reduce((a, d, i) => a + (d - 1) * strides[i]!, 0);
      if (count > 0 && last >= ref.numel)
        throw new PickleRefused(`a tensor reads past its storage (${last} ≥ ${ref.numel}): damaged`);
      tensors++;
      const t: TorchTensor = {
        __tensor: true,
        dtype: ref.dtype,
        shape,
        values: () => {
          const src = storage(ref);
          const out = new Float32Array(count);
          const idx = new Array<number>(shape.length).fill(0);
          for (let i = 0; i < count; i++) {
            let o = off;
            for (let d = 0; d < shape.length; d++) o += idx[d]! * strides[d]!;
            out[i] = src[o]!;
            for (let d = shape.length - 1; d >= 0; d--) {
              if (++idx[d]! < shape[d]!) break;
              idx[d] = 0;
            }
          }
          return out;
        },
      };
      return t;
    },
  };
  const globals: Record<string, AllowedGlobal | { value: unknown }> = {
    'collections.OrderedDict': {
      call: (args) => new Map((Array.isArray(args[0]) ? args[0] : []) as [unknown, unknown][]),
    },
    'torch._utils._rebuild_tensor_v2': rebuildTensor,
    'torch._utils._rebuild_tensor': rebuildTensor,
    'torch._utils._rebuild_parameter': { call: (args) => args[0] },
    'torch._utils._rebuild_parameter_with_state': { call: (args) => args[0] },
    'argparse.Namespace': { call: () => new PyObject('argparse.Namespace') },
    '_codecs.encode': { call: (args) => Buffer.from(String(args[0]), 'latin1') },
    'numpy.dtype': { call: (args) => new PyObject('numpy.dtype', { str: String(args[0]) }), build: (obj) => obj },
    'numpy.core.multiarray.scalar': {
      call: (args) => {
        const dt = args[0] instanceof PyObject ? String(args[0].state['str']) : '';
        const b = Buffer.from(args[1] as Uint8Array);
        if (dt === 'f8' && b.length === 8) return b.readDoubleLE(0);
        if (dt === 'f4' && b.length === 4) return b.readFloatLE(0);
        if (dt === 'i8' && b.length === 8) return Number(b.readBigInt64LE(0));
        if (dt === 'i4' && b.length === 4) return b.readInt32LE(0);
        throw new PickleRefused(`a numpy scalar of type ${dt || 'unknown'}: not read`);
      },
    },
  };
  for (const [name, s] of Object.entries(STORAGES)) globals[`torch.${name}`] = { value: { storage: name, ...s } };
  globals['numpy._core.multiarray.scalar'] = globals['numpy.core.multiarray.scalar']!;
  const root = unpickle(entries.get(pkl)!, {
    globals,
    persistentLoad: (pid) => {
      // ('storage', storage_type, key, location, numel)
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5)
        throw new PickleRefused('a persistent reference that is not a tensor storage: refused');
      const type = pid[1] as { storage?: string; dtype?: string; bytes?: number } | null;
      if (!type || typeof type !== 'object' || !type.dtype || !type.bytes)
        throw new PickleRefused('a storage of an unknown type: refused');
      if (typeof pid[2] !== 'string' || !/^[\w.]+$/.test(pid[2]))
        throw new PickleRefused('a storage with a malformed key: refused');
      const ref = {
        dtype: type.dtype,
        bytes: type.bytes,
        key: pid[2],
        numel: num(pid[4], 'storage size'),
      } satisfies StorageRef;
      referenced.set(`${prefix}data/${ref.key}`, ref.numel * ref.bytes);
      return ref;
    },
  });
  if (!o.pickleOnly && referenced.size)
    for (const [k, v] of await readZip(
      file,
      (n) => referenced.has(n),
      (n) => referenced.get(n)!,
    ))
      entries.set(k, v);
  return { root, tensors };
}

/** The tensors of a (nested) state dict, by dotted name: `{'model': {'a.b': T}}` → `model.a.b`. */
export function flattenTensors(root: unknown, prefix = ''): Map<string, TorchTensor> {
  const out = new Map<string, TorchTensor>();
  const walk = (v: unknown, p: string) => {
    if (v && typeof v === 'object' && '__tensor' in v) out.set(p, v as TorchTensor);
    else if (v instanceof Map) for (const [k, x] of v) walk(x, p ? `${p}.${String(k)}` : String(k));
  };
  walk(root, prefix);
  return out;
}

export { PickleRefused };
