/**
 * A 2-D map of a folder's faces under an encoder: mean-pooled features, PCA to two components
 * (power iteration with deflation on the covariance; deterministic start), and a picture of it —
 * each face as a thumbnail at its place, framed in its label's colour where labels exist.
 */
import sharp from 'sharp';

export interface ProjectedPoint {
  path: string;
  x: number;
  y: number;
  label: string | null;
}

/** The two principal components of rows (n × D): returns n pairs and the variance share of each component. */
export function pca2(rows: Float32Array[]): { coords: [number, number][]; explained: [number, number] } {
  const n = rows.length;
  const D = rows[0]?.length ?? 0;
  const mean = new Float64Array(D);
  for (const r of rows) for (let d = 0; d < D; d++) mean[d] = mean[d]! + r[d]! / n;
  const X = rows.map((r) => Float64Array.from(r, (v, d) => v - mean[d]!));
  const cov = new Float64Array(D * D);
  for (const x of X)
    for (let i = 0; i < D; i++)
      for (let j = i; j < D; j++) cov[i * D + j] = cov[i * D + j]! + (x[i]! * x[j]!) / Math.max(1, n - 1);
  for (let i = 0; i < D; i++) for (let j = 0; j < i; j++) cov[i * D + j] = cov[j * D + i]!;
  let total = 0;
  for (let i = 0; i < D; i++) total += cov[i * D + i]!;
  const comps: Float64Array[] = [];
  const vals: number[] = [];
  for (let c = 0; c < 2; c++) {
    let v = Float64Array.from({ length: D }, (_, d) => 1 / Math.sqrt(D) + (d === c ? 1 : 0));
    let lambda = 0;
    for (let it = 0; it < 300; it++) {
      const w = new Float64Array(D);
      for (let i = 0; i < D; i++) {
        let s = 0;
        for (let j = 0; j < D; j++) s += cov[i * D + j]! * v[j]!;
        w[i] = s;
      }
      for (const u of comps) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += w[d]! * u[d]!;
        for (let d = 0; d < D; d++) w[d] = w[d]! - dot * u[d]!;
      }
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      lambda = norm;
      v = w.map((x) => x / norm);
    }
    // a fixed sign: the largest entry positive, so that runs agree
    let big = 0;
    for (let d = 1; d < D; d++) if (Math.abs(v[d]!) > Math.abs(v[big]!)) big = d;
    if (v[big]! < 0) v = v.map((x) => -x);
    comps.push(v);
    vals.push(lambda);
  }
  const coords = X.map((x) => comps.map((u) => x.reduce((s, xv, d) => s + xv * u[d]!, 0)) as [number, number]);
  return { coords, explained: [total ? vals[0]! / total : 0, total ? vals[1]! / total : 0] };
}

const PALETTE = [
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#bfef45',
  '#fabed4',
  '#469990',
];

/** The map as a PNG: thumbnails (`thumbs` gives each point's RGB thumbnail, `t`×`t`) on a white square. */
export async function projectionPng(
  points: ProjectedPoint[],
  thumbs: Uint8Array[],
  t: number,
  side = 900,
): Promise<Buffer> {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const labels = [...new Set(points.map((p) => p.label).filter((l): l is string => l !== null))].sort();
  const pad = t + 4;
  const tiles = await Promise.all(
    points.map(async (p, i) => {
      const frame = p.label === null ? '#999999' : PALETTE[labels.indexOf(p.label) % PALETTE.length]!;
      const img = await sharp(Buffer.from(thumbs[i]!), { raw: { width: t, height: t, channels: 3 } })
        .extend({ top: 2, bottom: 2, left: 2, right: 2, background: frame })
        .png()
        .toBuffer();
      const left = Math.round(pad / 2 + ((p.x - x0) / (x1 - x0 || 1)) * (side - 2 * pad));
      const top = Math.round(pad / 2 + ((p.y - y0) / (y1 - y0 || 1)) * (side - 2 * pad));
      return { input: img, left, top };
    }),
  );
  return sharp({ create: { width: side, height: side, channels: 3, background: '#ffffff' } })
    .composite(tiles)
    .png()
    .toBuffer();
}
