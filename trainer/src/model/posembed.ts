/**
 * Fixed 2-D sin-cos position tables and the relative embedding of view-2 queries (method.md §1.4).
 * Pure functions on Float32Arrays; the model turns them into constant tensors.
 */

/** Relative geometry of view 2 in view-1 crop units (method.md §1.3), one per sample. */
export interface RelativeGeometry {
  di: number; // δi = (i2 − i1)/h1
  dj: number; // δj = (j2 − j1)/w1
  dh: number; // δh = h2/h1
  dw: number; // δw = w2/w1
  flip: boolean; // rflip = flip1 XOR flip2
  fdj: number; // fδj = (W − j1 − j2)/w1
}

export const IDENTITY_GEOMETRY: RelativeGeometry = { di: 0, dj: 0, dh: 1, dw: 1, flip: false, fdj: 1 };

/** ω_k = 10000^(−k/F), k = 0..F−1 (§1.4). */
function omegas(F: number): Float64Array {
  const w = new Float64Array(F);
  for (let k = 0; k < F; k++) w[k] = Math.pow(10000, -k / F);
  return w;
}

/** Writes [sin(pω_0..F−1), cos(pω_0..F−1)] at out[offset .. offset+2F). */
function writeSinCos(out: Float32Array, offset: number, p: number, w: Float64Array): void {
  const F = w.length;
  for (let k = 0; k < F; k++) {
    const a = p * w[k]!;
    out[offset + k] = Math.sin(a);
    out[offset + F + k] = Math.cos(a);
  }
}

/**
 * Absolute MAE 2-D sin-cos table, shape (1 + G², dim), row 0 all zeros for cls (§1.4):
 * the first dim/2 encode the row, the last dim/2 the column, with the same dim/4 frequencies.
 */
export function sincosTable2d(dim: number, grid: number, withCls = true): Float32Array {
  if (dim % 4 !== 0) throw new Error(`sin-cos table: dim ${dim} must be a multiple of 4`);
  const F = dim / 4;
  const w = omegas(F);
  const rows = grid * grid + (withCls ? 1 : 0);
  const out = new Float32Array(rows * dim);
  const base = withCls ? 1 : 0;
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const o = (base + r * grid + c) * dim;
      writeSinCos(out, o, r, w);
      writeSinCos(out, o + dim / 2, c, w);
    }
  }
  return out;
}

/**
 * Relative embedding of the G² view-2 queries for a batch (§1.4), shape (B, G², 2·dim):
 * e = [sin(g_hω), cos(g_hω), sin(g_wω), cos(g_wω), sin(s_hω), cos(s_hω), sin(s_wω), cos(s_wω)], F = dim/4.
 */
export function relativeEmbedding(geoms: readonly RelativeGeometry[], dim: number, grid: number): Float32Array {
  if (dim % 4 !== 0) throw new Error(`relative embedding: dim ${dim} must be a multiple of 4`);
  const F = dim / 4;
  const w = omegas(F);
  const N = grid * grid;
  const E = 8 * F; // = 2·dim
  const out = new Float32Array(geoms.length * N * E);
  geoms.forEach((g, b) => {
    if (!(g.dh > 0) || !(g.dw > 0))
      throw new Error(`relative embedding: scales must be positive (δh=${g.dh}, δw=${g.dw})`);
    const sh = 10 * Math.log(g.dh); // s_h = 10·ln δh
    const sw = 10 * Math.log(g.dw); // s_w = 10·ln δw
    for (let r = 0; r < grid; r++) {
      const gh = g.dh * (r + 0.5) + g.di * grid - 0.5; // g_h
      for (let c = 0; c < grid; c++) {
        const gw0 = g.dw * (c + 0.5) + g.dj * grid; // g_w⁰
        const gwFlip = -g.dw * (c + 0.5) + g.fdj * grid; // g_w^flip
        const gw = (g.flip ? gwFlip : gw0) - 0.5; // g_w
        const o = (b * N + r * grid + c) * E;
        writeSinCos(out, o, gh, w);
        writeSinCos(out, o + 2 * F, gw, w);
        writeSinCos(out, o + 4 * F, sh, w);
        writeSinCos(out, o + 6 * F, sw, w);
      }
    }
  });
  return out;
}
