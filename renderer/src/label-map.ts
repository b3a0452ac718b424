/**
 * A face-parsing label map in the renderer (one class index per photo pixel, row-major): the
 * brush's rasteriser, the overlay's colours, class counts, and the map as an 8-bit greyscale PNG
 * (the store's and LaPa's format) written and read here, byte for byte, with the browser's zlib
 * (CompressionStream 'deflate'): a canvas's PNG would be RGBA and pass through colour handling.
 * Pure functions on arrays, so the brush's pixels are tested without a browser.
 */

export interface LabelMap {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Pixels changed by a stroke: index → the class it had before the stroke (its first value). */
export type Changed = Map<number, number>;

/**
 * Paints class `cls` on every pixel whose centre (x + ½, y + ½) lies within `r` photo pixels of the
 * segment from `a` to `b` (continuous photo coordinates; a == b paints a disc). Records each
 * changed pixel's earlier class in `changed`; returns the bounding box painted (or null).
 */
export function paintSegment(
  m: LabelMap,
  a: readonly [number, number],
  b: readonly [number, number],
  r: number,
  cls: number,
  changed?: Changed,
): { x0: number; y0: number; x1: number; y1: number } | null {
  const x0 = Math.max(0, Math.floor(Math.min(a[0], b[0]) - r));
  const y0 = Math.max(0, Math.floor(Math.min(a[1], b[1]) - r));
  const x1 = Math.min(m.width - 1, Math.ceil(Math.max(a[0], b[0]) + r));
  const y1 = Math.min(m.height - 1, Math.ceil(Math.max(a[1], b[1]) + r));
  if (x0 > x1 || y0 > y1) return null;
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const r2 = r * r;
  for (let y = y0; y <= y1; y++)
    for (let x = x0; x <= x1; x++) {
      const px = x + 0.5 - a[0];
      const py = y + 0.5 - a[1];
      const t = len2 > 0 ? Math.min(1, Math.max(0, (px * dx + py * dy) / len2)) : 0;
      const ex = px - t * dx;
      const ey = py - t * dy;
      if (ex * ex + ey * ey > r2) continue;
      const i = y * m.width + x;
      if (m.data[i] === cls) continue;
      if (changed && !changed.has(i)) changed.set(i, m.data[i]!);
      m.data[i] = cls;
    }
  return { x0, y0, x1, y1 };
}

/** A disc of radius `r` around (cx, cy): paintSegment with both ends there. */
export function paintDisc(m: LabelMap, cx: number, cy: number, r: number, cls: number, changed?: Changed) {
  return paintSegment(m, [cx, cy], [cx, cy], r, cls, changed);
}

/** Each class's pixel count (`classes` entries; larger values are not counted). */
export function classCounts(m: LabelMap, classes: number): number[] {
  const out = new Array<number>(classes).fill(0);
  for (const v of m.data) if (v < classes) out[v]!++;
  return out;
}

/**
 * A class's share of the face: its pixels over all pixels that are not background (class 0), the
 * figure the overlay's legend shows ('—' for background itself).
 */
export function faceShares(counts: readonly number[]): (number | null)[] {
  const face = counts.reduce((s, c, i) => (i === 0 ? s : s + c), 0);
  return counts.map((c, i) => (i === 0 || face === 0 ? null : c / face));
}

/** The map's colours into an RGBA buffer (width·height·4), background transparent, within the box (default: all). */
export function colourise(
  m: LabelMap,
  colours: readonly (readonly [number, number, number])[],
  out: Uint8ClampedArray,
  box = { x0: 0, y0: 0, x1: m.width - 1, y1: m.height - 1 },
): void {
  for (let y = box.y0; y <= box.y1; y++)
    for (let x = box.x0; x <= box.x1; x++) {
      const i = y * m.width + x;
      const c = m.data[i]!;
      const rgb = colours[c];
      const o = i * 4;
      if (c === 0 || !rgb) {
        out[o + 3] = 0;
        continue;
      }
      out[o] = rgb[0];
      out[o + 1] = rgb[1];
      out[o + 2] = rgb[2];
      out[o + 3] = 255;
    }
}

// ---- 8-bit greyscale PNG ----

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 255]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

async function through(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** The map as an 8-bit greyscale PNG (colour type 0, no filter, zlib by the browser). */
export async function encodeGreyPng(m: LabelMap): Promise<Uint8Array> {
  const raw = new Uint8Array((m.width + 1) * m.height);
  for (let y = 0; y < m.height; y++) raw.set(m.data.subarray(y * m.width, (y + 1) * m.width), y * (m.width + 1) + 1);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, m.width);
  v.setUint32(4, m.height);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8 bits, greyscale, deflate, no filter method variants, not interlaced
  const parts = [
    new Uint8Array(SIGNATURE),
    chunk('IHDR', ihdr),
    chunk('IDAT', await through(raw, new CompressionStream('deflate'))),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const paeth = (a: number, b: number, c: number) => {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};

/** An 8-bit greyscale, non-interlaced PNG's values (as sharp and our encoder write label maps); anything else is refused. */
export async function decodeGreyPng(png: Uint8Array): Promise<LabelMap> {
  if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) throw new Error('not a PNG');
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let o = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  while (o + 8 <= png.length) {
    const len = v.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    const data = png.subarray(o + 8, o + 8 + len);
    if (type === 'IHDR') {
      width = v.getUint32(o + 8);
      height = v.getUint32(o + 12);
      const [depth, colour, , , interlace] = data.subarray(8, 13);
      if (depth !== 8 || colour !== 0 || interlace !== 0)
        throw new Error('the label map is not an 8-bit greyscale, non-interlaced PNG');
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    o += 12 + len;
  }
  if (!width || !height || idat.length === 0) throw new Error('the PNG has no image data');
  const joined = new Uint8Array(idat.reduce((s, d) => s + d.length, 0));
  let at = 0;
  for (const d of idat) {
    joined.set(d, at);
    at += d.length;
  }
  const raw = await through(joined, new DecompressionStream('deflate'));
  if (raw.length < (width + 1) * height) throw new Error('the PNG is cut short');
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (width + 1)]!;
    const src = raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1));
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const a = x > 0 ? data[row + x - 1]! : 0;
      const b = y > 0 ? data[row - width + x]! : 0;
      const c = x > 0 && y > 0 ? data[row - width + x - 1]! : 0;
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : f === 4 ? paeth(a, b, c) : -1;
      if (pred < 0) throw new Error(`the PNG has an unknown row filter (${f})`);
      data[row + x] = (src[x]! + pred) & 255;
    }
  }
  return { width, height, data };
}

/** Bytes as base64 and back (the contract carries PNGs as base64). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(b64: string): Uint8Array {
  const s = atob(b64.replace(/^data:image\/png;base64,/, ''));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
